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

    /// <summary>
    /// The elements of every address set of one family (<paramref name="family"/> is "pods4" or
    /// "pods6"), as (address, comment, mark chain). The mark chain is what the set's name says:
    /// set "pods4-mark-X" feeds chain "mark-X" (the prerouting rules doing so are checked elsewhere).
    /// </summary>
    public static List<(string Address, string? Comment, string? Goto)> Elements(JsonNode ruleset, string family) =>
        Objects(ruleset, "set")
            .Where(s => ((string?)s["name"])!.StartsWith(family + "-", StringComparison.Ordinal))
            .SelectMany(s => SetElements(s).Select(e => (e.Address, e.Comment, (string?)((string)s["name"]!)[(family.Length + 1)..])))
            .ToList();

    /// <summary>The elements of one set as (address, comment); fails on anything but a plain address.</summary>
    public static List<(string Address, string? Comment)> SetElements(JsonObject set)
    {
        if (set["elem"] is not JsonArray elements)
        {
            return [];
        }

        // ["10.88.0.9", {"elem": {"val": "10.88.0.5", "comment": "..."}}]: a bare value, or an
        // object when the element has a comment. A map element would be a [key, data] array.
        return elements.Select(item => item is JsonObject o
            ? ((string)o["elem"]!["val"]!, (string?)o["elem"]!["comment"])
            : ((string)item!, null)).ToList();
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
