using System.Net;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.Testbed.Nftables;

/// <summary>
/// Reads what the kernel holds in a namespace, with the nft CLI as the independent oracle (never the
/// plugin's own decoder).
/// </summary>
public static class FwmarkRuleset
{
    public const string Table = "fwmark";

    /// <summary><c>nft -s list ruleset</c>: the whole ruleset without counter values (stable across traffic).</summary>
    public static string Stateless(Netns netns) => netns.Run("nft", "-s", "list", "ruleset").Stdout;

    /// <summary><c>nft list table inet fwmark</c>; empty string when the table does not exist.</summary>
    public static string TableText(Netns netns)
    {
        var result = netns.Exec("nft", "list", "table", "inet", Table);
        return result.Succeeded ? result.Stdout : "";
    }

    /// <summary><c>nft -j list ruleset</c> as the array under "nftables".</summary>
    public static JsonArray Json(Netns netns) =>
        JsonNode.Parse(netns.Run("nft", "-j", "list", "ruleset").Stdout)?["nftables"]?.AsArray()
        ?? throw new TestbedException($"failed to parse nft -j output in {netns}");

    /// <summary>Every element of the verdict maps in table inet fwmark.</summary>
    public static IReadOnlyList<MapElement> Elements(Netns netns)
    {
        var elements = new List<MapElement>();
        foreach (var item in Json(netns))
        {
            var map = item?["map"];
            if (map is null || map["family"]?.GetValue<string>() != "inet" || map["table"]?.GetValue<string>() != Table)
            {
                continue;
            }

            var mapName = map["name"]!.GetValue<string>();
            foreach (var pair in map["elem"]?.AsArray() ?? [])
            {
                // Each entry is [key, verdict]; a key with a comment is {"elem": {"val": ..., "comment": ...}}.
                var key = pair![0]!;
                var (value, comment) = key is JsonObject o && o["elem"] is JsonObject e
                    ? (e["val"]!.GetValue<string>(), e["comment"]?.GetValue<string>())
                    : (key.GetValue<string>(), null);
                var verdict = pair[1]!.AsObject().First();
                var target = verdict.Value?["target"]?.GetValue<string>();
                elements.Add(new MapElement(mapName, IPAddress.Parse(value), comment, verdict.Key, target));
            }
        }

        return elements;
    }

    /// <summary>The elements for <paramref name="address"/> (normally zero or one).</summary>
    public static IReadOnlyList<MapElement> ElementsFor(Netns netns, IPAddress address) =>
        [.. Elements(netns).Where(e => e.Address.Equals(address))];
}

/// <summary>One element of pods4/pods6: address → verdict (e.g. goto mark-00000010-00000010), with its owner comment.</summary>
public sealed record MapElement(string Map, IPAddress Address, string? Comment, string Verdict, string? Target);
