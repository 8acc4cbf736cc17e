using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Config;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Operator;

/// <summary>
/// <c>fwmark reconcile</c>: re-ensures the rules and routes of every mark with a <c>route</c> in a set
/// of conflists. The plugin only runs on pod events, but a route through a VPN interface vanishes
/// with the interface, so a VPN up-hook or a systemd unit calls this. Quiet when the node already
/// matches; one line per repair, warning or problem otherwise.
/// </summary>
public sealed class Reconciler(IRouting routing, TextWriter output)
{
    /// <summary>Result of one run: whether the node matches the config afterwards.</summary>
    public sealed record Outcome(bool NodeMatches, int Repaired);

    /// <param name="conflists">(path, JSON text) of each file in the CNI config dir.</param>
    public Outcome Run(IEnumerable<(string Path, string Text)> conflists)
    {
        var matches = true;
        var repaired = 0;
        var done = new HashSet<(MarkSpec, RouteSpec)>();
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

        return new Outcome(matches, repaired);
    }

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
            output.WriteLine($"{path}: failed to parse conflist: {e.Message.Split('\n')[0].TrimEnd()}");
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
