using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Config;

namespace Fwmark.Core.Agent;

/// <summary>
/// What the conflists of a CNI config dir ask of the node, as far as the agent's kernel repair needs
/// it: the marks of every fwmark plugin object (their chains and sets exist even before the first pod)
/// and the routing tables of the marks with a <c>route</c> (owned by the plugin). Files or plugin
/// objects that do not parse are skipped here; <see cref="Operator.Reconciler"/>, which runs on the
/// same files, reports them.
/// </summary>
public sealed record NodeConfig(IReadOnlyList<MarkSpec> Marks, IReadOnlyList<uint> RouteTables)
{
    public static NodeConfig Read(IEnumerable<(string Path, string Text)> conflists)
    {
        var marks = new List<MarkSpec>();
        var tables = new List<uint>();
        foreach (var (_, text) in conflists)
        {
            foreach (var plugin in FwmarkPlugins(text))
            {
                try
                {
                    var config = PluginConfigParser.Parse(plugin);
                    marks.AddRange(config.Marks.Values);
                    tables.AddRange(config.Routes.Values.Select(r => r.Table));
                }
                catch (CniException)
                {
                }
            }
        }

        return new NodeConfig([.. marks.DistinctBy(m => (m.Value, m.Mask, m.Connmark))], [.. tables.Distinct()]);
    }

    private static IEnumerable<JsonObject> FwmarkPlugins(string text)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            yield break;
        }

        var candidates = root is JsonObject list && list["plugins"] is JsonArray array
            ? array.OfType<JsonObject>()
            : root is JsonObject single ? [single] : [];
        foreach (var plugin in candidates)
        {
            if (plugin["type"] is JsonValue type && type.GetValueKind() == JsonValueKind.String && type.GetValue<string>() == "fwmark")
            {
                yield return plugin;
            }
        }
    }
}
