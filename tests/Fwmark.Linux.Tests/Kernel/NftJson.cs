using System.Text.Json.Nodes;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>Reads the facts tests need out of `nft -j` output (the oracle's own structure).</summary>
internal static class NftJson
{
    public static IEnumerable<JsonObject> Objects(JsonNode ruleset, string kind) =>
        ruleset["nftables"]!.AsArray()
            .Select(item => item!.AsObject())
            .Where(item => item.ContainsKey(kind))
            .Select(item => item[kind]!.AsObject());

    public static List<JsonObject> Rules(JsonNode ruleset, string chain) =>
        Objects(ruleset, "rule").Where(r => (string?)r["chain"] == chain).ToList();

    /// <summary>Map elements as (address, comment, goto chain).</summary>
    public static List<(string Address, string? Comment, string? Goto)> Elements(JsonNode ruleset, string map)
    {
        var node = Objects(ruleset, "map").Single(m => (string?)m["name"] == map);
        if (node["elem"] is not JsonArray elements)
        {
            return [];
        }

        // [[{"elem": {"val": "10.88.0.5", "comment": "..."}}, {"goto": {"target": "mark-..."}}], ...]
        return elements.Select(pair =>
        {
            var key = pair![0]!;
            var value = pair[1]!;
            // An element without comment is a bare value, with one an {"elem": {...}} object.
            var elem = key is JsonObject ? key["elem"] : null;
            var address = elem is null ? (string)key! : (string)elem["val"]!;
            var comment = (string?)elem?["comment"];
            return (address, comment, (string?)value["goto"]?["target"]);
        }).ToList();
    }

    /// <summary>Packets counted by the (single) counter rule of <paramref name="chain"/>.</summary>
    public static long CounterPackets(JsonNode ruleset, string chain) =>
        Rules(ruleset, chain)
            .SelectMany(r => r["expr"]!.AsArray())
            .Select(e => e!["counter"])
            .Where(c => c is not null)
            .Select(c => (long)c!["packets"]!)
            .Single();

    public static List<long> Handles(JsonNode ruleset, string chain) =>
        Rules(ruleset, chain).Select(r => (long)r["handle"]!).ToList();
}
