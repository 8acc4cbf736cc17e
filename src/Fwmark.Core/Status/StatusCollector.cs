using System.Net.Sockets;
using Fwmark.Core.Inspection;
using Fwmark.Core.Operator;
using Fwmark.Core.Paths;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Status;

/// <summary>A mark as a conflist configures it: the first conflist naming a value/mask/connmark gives its name and route.</summary>
public sealed record StatusMark(MarkSpec Mark, RouteSpec? Route);

/// <summary>
/// Builds a <see cref="StatusReport"/> from what the node holds, never from guesses: kernel elements are matched to
/// records by the owner key in their tag (the same key DEL and GC trust); who an attachment is comes from its record,
/// else from the readable tail of the tag; a mark's name comes from the record or a conflist, else it has none.
/// Read-only: no lock, no change. A source that cannot be read becomes a sentence in <see cref="StatusReport.Problems"/>.
/// </summary>
public sealed class StatusCollector
{
    public required IMarkingReader Marking { get; init; }

    public required INodeView Node { get; init; }

    /// <summary>The plugin's routing backend: its Verify says what reconcile would repair. Null: not asked.</summary>
    public IRouting? Routing { get; init; }

    public IAttachmentRecordStore? Records { get; init; }

    public IReadOnlyList<StatusMark> Configured { get; init; } = [];

    /// <summary>Conflists that could not be read or parsed (from the caller's conf dir reader).</summary>
    public IReadOnlyList<string> ConfigProblems { get; init; } = [];

    public string ConfDir { get; init; } = "";

    public string RunDir { get; init; } = AgentHeartbeat.DefaultRunDir;

    public StatusReport Collect(DateTimeOffset now)
    {
        var problems = new List<string>(ConfigProblems);
        var snapshot = MarkingSnapshot.Empty;
        try
        {
            snapshot = Marking.Read();
        }
        catch (DataplaneException e)
        {
            problems.Add($"failed to read table inet fwmark: {e.Message}");
        }

        IReadOnlyList<AttachmentRecord> records = [];
        if (Records is not null)
        {
            try
            {
                records = Records.ReadAll(problems);
            }
            catch (Exception e) when (e is DataplaneException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"failed to read the attachment records in {Records.Location}: {e.Message}");
            }
        }

        var configured = Configured.DistinctBy(m => Identity(m.Mark)).ToList();
        var attachments = Attachments(snapshot, records, configured);
        var marks = Marks(snapshot, configured, attachments, problems);
        var agentProblem = AgentHeartbeat.Problem(RunDir, now.UtcDateTime);
        return new StatusReport(now, ConfDir, new AgentStatus(agentProblem is null, agentProblem),
            new TableStatus(snapshot.TableExists, snapshot.Counters), marks, attachments, problems);
    }

    private static (uint, uint, bool) Identity(MarkSpec mark) => (mark.Value, mark.Mask, mark.Connmark);

    private static List<AttachmentStatus> Attachments(MarkingSnapshot snapshot, IReadOnlyList<AttachmentRecord> records, List<StatusMark> configured)
    {
        var byOwner = new Dictionary<string, (AttachmentRecord? Record, List<MarkedElement> Elements)>(StringComparer.Ordinal);
        var result = new List<AttachmentStatus>();
        foreach (var element in snapshot.Elements)
        {
            if (element.Comment is { } tag && AttachmentOwner.TryParseTag(tag, out _, out var key))
            {
                var entry = byOwner.TryGetValue(key, out var e) ? e : (null, []);
                entry.Elements.Add(element);
                byOwner[key] = entry;
            }
            else
            {
                // Not one of ours (no owner tag): shown on its own, as what it is.
                result.Add(new AttachmentStatus(null, null, null, null, null, NameOf(element.Mark, null, configured), element.Mark,
                    AttachmentState.NoRecord, [new KeyStatus(element.Kind, element.Key, true, false, element.Counter)], element.Comment));
            }
        }

        foreach (var record in records)
        {
            var entry = byOwner.TryGetValue(record.Owner.Key, out var e) ? e : (null, []);
            byOwner[record.Owner.Key] = (record, entry.Elements);
        }

        foreach (var (record, elements) in byOwner.Values)
        {
            result.Add(Attachment(record, elements, configured));
        }

        return [.. result
            .OrderBy(a => a.Network ?? "\uffff", StringComparer.Ordinal)
            .ThenBy(a => a.PodNamespace ?? "\uffff", StringComparer.Ordinal)
            .ThenBy(a => a.PodName ?? "\uffff", StringComparer.Ordinal)
            .ThenBy(a => a.ContainerId ?? "\uffff", StringComparer.Ordinal)
            .ThenBy(a => a.IfName ?? "", StringComparer.Ordinal)
            .ThenBy(a => a.Keys[0].Key, StringComparer.Ordinal)];
    }

    private static AttachmentStatus Attachment(AttachmentRecord? record, List<MarkedElement> elements, List<StatusMark> configured)
    {
        var keys = elements.Select(e => new KeyStatus(e.Kind, e.Key, true, false, e.Counter) { Keying = e.Keying }).ToList();
        if (record is not null)
        {
            foreach (var (kind, text, keying) in RecordedKeys(record))
            {
                var index = keys.FindIndex(k => k.Kind == kind && k.Key == text && k.Keying == keying);
                if (index >= 0)
                {
                    keys[index] = keys[index] with { InRecord = true };
                }
                else
                {
                    keys.Add(new KeyStatus(kind, text, false, true, null) { Keying = keying });
                }
            }
        }

        var state = record is null ? AttachmentState.NoRecord
            : keys.All(k => k.InKernel) ? AttachmentState.Ok
            : keys.Any(k => k.InKernel) ? AttachmentState.Partial
            : AttachmentState.NotInKernel;
        // The kernel's mark is what marks packets; the record's is what ADD applied (the same unless changed since).
        var mark = elements.Count > 0 ? elements[0].Mark : record!.Mark;
        var (network, container, ifname) = record is not null
            ? (record.Owner.Network, record.Owner.ContainerId, record.Owner.IfName)
            : FromTag(elements[0].Comment!);
        return new AttachmentStatus(network, container, ifname, record?.PodNamespace, record?.PodName, NameOf(mark, record, configured), mark, state,
            [.. keys.OrderBy(k => k.Kind).ThenBy(k => k.Key, StringComparer.Ordinal)], null);
    }

    /// <summary>
    /// The keys the record's ADD made: on an interface path the host veth's name, in the set of that path (a
    /// bridge port, or the routed input interface); on the address path each address.
    /// </summary>
    private static IEnumerable<(MarkedKeyKind Kind, string Key, MarkKeying Keying)> RecordedKeys(AttachmentRecord record) =>
        record.Path is { HostInterface: { } name } path && path.IsInterfaceKeyed()
            ? [(MarkedKeyKind.Interface, name, path.Keying)]
            : record.Addresses.Select(a => (a.AddressFamily == AddressFamily.InterNetworkV6 ? MarkedKeyKind.IPv6 : MarkedKeyKind.IPv4, a.ToString(), MarkKeying.Address));

    /// <summary>network/container/ifname from an owner tag's readable tail; a part cut off by the 127-byte limit is null.</summary>
    private static (string?, string?, string?) FromTag(string tag)
    {
        var parts = (tag.Length > 26 ? tag[26..] : "").Split('/');
        string? Part(int i) => parts.Length > i && parts[i].Length > 0 && (i < 2 || parts.Length == 3) ? parts[i] : null;
        // Only the last part can have been cut: with three parts the ifname may be truncated, which the 127 bytes make rare.
        return (Part(0), parts.Length >= 2 ? Part(1) : null, parts.Length == 3 ? Part(2) : null);
    }

    private static string? NameOf(MarkSpec mark, AttachmentRecord? record, List<StatusMark> configured) =>
        record is not null && Identity(record.Mark) == Identity(mark) && record.Mark.Name.Length > 0
            ? record.Mark.Name
            : configured.FirstOrDefault(c => Identity(c.Mark) == Identity(mark))?.Mark.Name;

    private List<MarkStatus> Marks(MarkingSnapshot snapshot, List<StatusMark> configured, List<AttachmentStatus> attachments, List<string> problems)
    {
        var identities = configured.Select(c => c.Mark)
            .Concat(snapshot.Marks)
            .Concat(attachments.Select(a => a.Mark))
            .DistinctBy(Identity)
            .OrderBy(m => m.Value).ThenBy(m => m.Mask).ThenBy(m => m.Connmark);
        var result = new List<MarkStatus>();
        foreach (var mark in identities)
        {
            var config = configured.FirstOrDefault(c => Identity(c.Mark) == Identity(mark));
            var elements = snapshot.Elements.Where(e => Identity(e.Mark) == Identity(mark)).ToList();
            var counted = elements.All(e => e.Counter is not null);
            var mine = attachments.Where(a => Identity(a.Mark) == Identity(mark)).ToList();
            var name = config?.Mark.Name ?? mine.Select(a => a.MarkName).FirstOrDefault(n => n is not null);
            result.Add(new MarkStatus(name, config?.Mark ?? mark, config is not null, mine.Count,
                counted ? elements.Aggregate(0UL, (s, e) => s + e.Counter!.Packets) : null,
                counted ? elements.Aggregate(0UL, (s, e) => s + e.Counter!.Bytes) : null,
                config?.Route is { } route ? RoutingOf(config.Mark, route, problems) : null));
        }

        return result;
    }

    private RoutingStatus? RoutingOf(MarkSpec mark, RouteSpec route, List<string> problems)
    {
        try
        {
            bool? deviceUp = route.Device is { } device ? Marking.LinkUp(device) : null;
            var verify = Routing?.Verify(mark, route) ?? [];
            return new RoutingStatus(route.Table, route.Device, deviceUp,
                Family(AddressFamily.InterNetwork, mark, route), Family(AddressFamily.InterNetworkV6, mark, route), verify);
        }
        catch (DataplaneException e)
        {
            problems.Add($"failed to read the routing of mark {mark.Name}: {e.Message}");
            return null;
        }
    }

    private FamilyRouting Family(AddressFamily family, MarkSpec mark, RouteSpec route)
    {
        var rule = Node.Rules(family).Any(r => r.IsLookup && !r.HasOtherSelectors && r.SelectsMark(mark.Value, mark.Mask) && r.Table == route.Table);
        var routes = Node.Routes(family, route.Table);
        return new FamilyRouting(
            route.HasDefaultRoute(family == AddressFamily.InterNetworkV6),
            rule,
            [.. routes.Select(Describe)],
            routes.Any(r => r.PrefixLength == 0 && r.Type == NodeRouteType.Unicast),
            routes.Any(r => r.IsFailClosedDefault));
    }

    private static string Describe(NodeRoute route)
    {
        var type = route.Type switch
        {
            NodeRouteType.Unicast => "",
            NodeRouteType.Other => "other ",
            _ => route.Type.ToString().ToLowerInvariant() + " ",
        };
        var destination = route.PrefixLength == 0 ? "default" : $"(a /{route.PrefixLength})";
        var device = route.Device is { } d ? $" dev {d}" : "";
        return $"{type}{destination}{device} metric {route.Metric}";
    }
}
