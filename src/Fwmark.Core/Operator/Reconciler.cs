using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Config;
using Fwmark.Core.Paths;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Operator;

/// <summary>
/// <c>fwmark reconcile</c>: restores everything the plugin owns on the node without any CNI call.
/// First the rules and routes of every mark with a <c>route</c> in a set of conflists; then, from the
/// attachment records (<see cref="IAttachmentRecordStore"/>), the routing of recorded marks no conflist
/// routes, and every recorded attachment's elements, through the same <see cref="IDataplane.InstallTarget"/>
/// as ADD (which also makes the table and chains). Nothing else restores them after an
/// <c>nft flush ruleset</c> when no node agent runs.
///
/// An interface-keyed record (bridge port, input interface) is restored on its recorded path, keyed by the
/// host veth's name, as ADD made it. The records are a restore source, not the authority: a key (an address
/// on the address path, a host veth's name on an interface path) recorded by two attachments goes to the
/// newest record (the older one is stale and deleted), and a key whose kernel element names another owner
/// is left to that owner (reported). Each restore runs under the record store's lock and
/// re-reads its record there, so a DEL that removed the record meanwhile is never undone.
///
/// Quiet when the node already matches; one line per repair, warning or problem otherwise.
/// </summary>
public sealed class Reconciler(IRouting routing, TextWriter output, IDataplane? dataplane = null, IAttachmentRecordStore? records = null)
{
    /// <summary>Result of one run: whether the node matches the config and the records afterwards.</summary>
    public sealed record Outcome(bool NodeMatches, int Repaired);

    /// <param name="conflists">(path, JSON text) of each file in the CNI config dir.</param>
    public Outcome Run(IEnumerable<(string Path, string Text)> conflists)
    {
        var matches = true;
        var repaired = 0;
        var done = new HashSet<(MarkSpec, RouteSpec)>();
        var routedByConfig = new HashSet<(uint, uint)>();
        foreach (var (path, text) in conflists)
        {
            foreach (var plugin in FwmarkPlugins(path, text, ref matches))
            {
                PluginConfig config;
                try
                {
                    config = PluginConfigParser.Parse(plugin);
                }
                catch (CniException e)
                {
                    output.WriteLine($"{path}: {e.Message}");
                    matches = false;
                    continue;
                }

                foreach (var (name, route) in config.Routes)
                {
                    var mark = config.Marks[name];
                    routedByConfig.Add((mark.Value, mark.Mask));
                    // Several networks may share a mark and its table: ensure each combination once.
                    if (done.Add((mark with { Name = "" }, route)))
                    {
                        (var ok, var fixedCount) = Reconcile(path, mark, route);
                        matches &= ok;
                        repaired += fixedCount;
                    }
                }
            }
        }

        if (records is not null && dataplane is not null)
        {
            var (ok, fixedCount) = RestoreRecords(routedByConfig, done);
            matches &= ok;
            repaired += fixedCount;
        }

        return new Outcome(matches, repaired);
    }

    private (bool Ok, int Repaired) RestoreRecords(HashSet<(uint, uint)> routedByConfig, HashSet<(MarkSpec, RouteSpec)> done)
    {
        var problems = new List<string>();
        var all = records!.ReadAll(problems);
        foreach (var problem in problems)
        {
            output.WriteLine($"{problem} (its attachment, if it still exists, is not restored; delete the file once the pod is gone)");
        }

        var ok = problems.Count == 0;
        var repaired = 0;

        // A mark routed only by networks whose conflists are elsewhere keeps the routing ADD made.
        foreach (var record in all.Where(r => r.Route is not null && !routedByConfig.Contains((r.Mark.Value, r.Mark.Mask))))
        {
            if (done.Add((record.Mark with { Name = "" }, record.Route!)))
            {
                var (routeOk, fixedCount) = Reconcile($"record {records.Location}/{record.Owner.Network}/{record.Owner.Key}.json", record.Mark, record.Route!);
                ok &= routeOk;
                repaired += fixedCount;
            }
        }

        // The newest record of each key owns it: an address on the address path, the host veth's name on an
        // interface path (two pods of overlapping ranges on two bridges share an address, not a key).
        var newest = all.SelectMany(r => r.Keys.Select(k => (Key: k, Record: r)))
            .GroupBy(x => x.Key)
            .ToDictionary(g => g.Key, g => g.MaxBy(x => x.Record.RecordedAt).Record);
        foreach (var record in all)
        {
            var keys = record.Keys.Where(k => ReferenceEquals(newest[k], record)).ToList();
            if (keys.Count < record.Keys.Count)
            {
                (var recordOk, var fixedCount) = Supersede(record, keys, newest);
                ok &= recordOk;
                repaired += fixedCount;
                if (keys.Count == 0)
                {
                    continue;
                }
            }

            var (restored, count) = Restore(record, record.Path is null ? [.. keys.Select(IPAddress.Parse)] : [.. record.Addresses]);
            ok &= restored;
            repaired += count;
        }

        return (ok, repaired);
    }

    private (bool Ok, int Repaired) Supersede(AttachmentRecord record, List<string> kept, Dictionary<string, AttachmentRecord> newest)
    {
        var lost = record.Keys.Except(kept).ToList();
        var by = string.Join(", ", lost.Select(k => $"{k} by {Name(newest[k].Owner)}"));
        if (kept.Count > 0)
        {
            output.WriteLine($"{Name(record.Owner)}: not restoring addresses recorded again later ({by})");
            return (true, 0);
        }

        try
        {
            using var session = records!.Open();
            session.Delete(record.Owner);
            output.WriteLine($"{Name(record.Owner)}: deleted its stale record: every key of it was recorded again later ({by})");
            return (true, 1);
        }
        catch (Exception e) when (e is DataplaneException or CniException)
        {
            output.WriteLine($"{Name(record.Owner)}: failed to delete its stale record: {e.Message}");
            return (false, 0);
        }
    }

    private (bool Ok, int Repaired) Restore(AttachmentRecord record, List<IPAddress> addresses)
    {
        var target = record.Path is { } path ? new MarkTarget(path, addresses) : MarkTarget.ByAddress(addresses);
        var keyed = record.Path is { } p ? $"{p.Describe()}: {string.Join(", ", addresses)}" : string.Join(", ", addresses);
        var where = $"{Name(record.Owner)} ({keyed}, mark {record.Mark.Name} 0x{record.Mark.Value:x}/0x{record.Mark.Mask:x})";
        try
        {
            using var session = records!.Open();
            if (session.Read(record.Owner) is not { } current || current.RecordedAt != record.RecordedAt)
            {
                return (true, 0); // DEL'd or re-ADDed since the records were read: that call did the work
            }

            var plane = dataplane!;
            var before = plane.VerifyTarget(record.Owner, target, record.Mark);
            if (before.Count == 0)
            {
                return (true, 0);
            }

            // The verifiers' wording: the kernel names another owner, and owner tags are the authority.
            var foreign = before.Where(p => p.Contains("owned by another attachment", StringComparison.Ordinal)).ToList();
            if (foreign.Count > 0)
            {
                foreach (var problem in foreign)
                {
                    output.WriteLine($"{where}: not restored: {problem}");
                }

                return (false, 0);
            }

            plane.InstallTarget(record.Owner, target, record.Mark);
            var after = plane.VerifyTarget(record.Owner, target, record.Mark);
            foreach (var problem in before.Except(after, StringComparer.Ordinal))
            {
                output.WriteLine($"{where}: restored ({problem})");
            }

            foreach (var problem in after)
            {
                output.WriteLine($"{where}: still wrong: {problem}");
            }

            return (after.Count == 0, 1);
        }
        catch (Exception e) when (e is DataplaneException or CniException)
        {
            output.WriteLine($"{where}: {e.Message}");
            return (false, 0);
        }
    }

    private static string Name(AttachmentOwner owner) => $"{owner.Network}/{owner.ContainerId}/{owner.IfName}";

    private (bool Ok, int Repaired) Reconcile(string path, MarkSpec mark, RouteSpec route)
    {
        var where = $"{path}: mark {mark.Name} (0x{mark.Value:x}/0x{mark.Mask:x}, table {route.Table})";
        try
        {
            var before = routing.Verify(mark, route);
            if (before.Count == 0)
            {
                return (true, 0);
            }

            foreach (var warning in routing.Ensure(mark, route))
            {
                output.WriteLine($"{where}: warning: {warning}");
            }

            var after = routing.Verify(mark, route);
            var fixedProblems = before.Except(after, StringComparer.Ordinal).ToList();
            foreach (var problem in fixedProblems)
            {
                output.WriteLine($"{where}: repaired ({problem})");
            }

            foreach (var problem in after)
            {
                output.WriteLine($"{where}: still wrong: {problem}");
            }

            return (after.Count == 0, fixedProblems.Count);
        }
        catch (DataplaneException e)
        {
            return Failed(where, e.Message, e.Details);
        }
        catch (CniException e)
        {
            return Failed(where, e.Message, e.Details);
        }
    }

    private (bool Ok, int Repaired) Failed(string where, string message, string? details)
    {
        output.WriteLine($"{where}: {message}");
        if (details is { Length: > 0 })
        {
            output.WriteLine($"  {details.Replace("\n", "\n  ", StringComparison.Ordinal)}");
        }

        return (false, 0);
    }

    /// <summary>The fwmark plugin objects of a conflist (or of a single-plugin .conf file).</summary>
    private List<JsonObject> FwmarkPlugins(string path, string text, ref bool matches)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            // .NET's text spans two lines ("... LineNumber: 0 | BytePositionInLine: 1."); one is enough here.
            output.WriteLine($"{path}: failed to parse conflist: {JsonProblem.Describe(e)}");
            matches = false;
            return [];
        }

        var plugins = new List<JsonObject>();
        if (root is JsonObject { } list && list["plugins"] is JsonArray array)
        {
            plugins.AddRange(array.OfType<JsonObject>());
        }
        else if (root is JsonObject single)
        {
            plugins.Add(single);
        }

        return plugins.FindAll(IsFwmark);
    }

    private static bool IsFwmark(JsonObject plugin) =>
        plugin["type"] is JsonValue type && type.GetValueKind() == JsonValueKind.String && type.GetValue<string>() == "fwmark";
}
