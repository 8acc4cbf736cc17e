using System.Text.Json.Nodes;

namespace Fwmark.Testbed.Nftables;

/// <summary>
/// Reads facts out of an <c>nft -j</c> listing (the array under "nftables", see <see cref="NftOracle.Json"/>):
/// the oracle's own structure, never the product's decoder.
/// </summary>
public static class NftJson
{
    /// <summary>The objects of one kind ("table", "chain", "rule", "set", "map") in listing order.</summary>
    public static IEnumerable<JsonObject> Objects(JsonArray listing, string kind) =>
        listing
            .Select(item => item!.AsObject())
            .Where(item => item.ContainsKey(kind))
            .Select(item => item[kind]!.AsObject());

    public static List<JsonObject> Rules(JsonArray listing, string chain) =>
        Objects(listing, "rule").Where(r => (string?)r["chain"] == chain).ToList();

    /// <summary>
    /// The elements of every address set of one family (<paramref name="family"/> is "pods4" or
    /// "pods6"), as (address, comment, mark chain). The mark chain is what the set's name says:
    /// set "pods4-mark-X" feeds chain "mark-X" (the prerouting rules doing so are checked elsewhere).
    /// </summary>
    public static List<(string Address, string? Comment, string? Goto)> Elements(JsonArray listing, string family) =>
        Objects(listing, "set")
            .Where(s => ((string?)s["name"])!.StartsWith(family + "-", StringComparison.Ordinal))
            .SelectMany(s => SetElements(s).Select(e => (e.Value, e.Comment, (string?)((string)s["name"]!)[(family.Length + 1)..])))
            .ToList();

    /// <summary>The elements of one set as (value, comment); fails on anything but a plain value.</summary>
    public static List<(string Value, string? Comment)> SetElements(JsonObject set) =>
        set["elem"] is JsonArray elements ? elements.Select(Element).ToList() : [];

    /// <summary>
    /// One item of a set's "elem" array: a bare value, or <c>{"elem": {"val": ..., "comment": ...}}</c> when
    /// the element has a comment. A map element would be a [key, data] array, which this refuses.
    /// </summary>
    public static (string Value, string? Comment) Element(JsonNode? item) =>
        item is JsonObject o
            ? ((string)o["elem"]!["val"]!, (string?)o["elem"]!["comment"])
            : ((string)item!, null);

    /// <summary>Packets counted by the (single) counter rule of <paramref name="chain"/>.</summary>
    public static long CounterPackets(JsonArray listing, string chain) =>
        Rules(listing, chain)
            .SelectMany(r => r["expr"]!.AsArray())
            .Select(e => e!["counter"])
            .Where(c => c is not null)
            .Select(c => (long)c!["packets"]!)
            .Single();

    public static List<long> Handles(JsonArray listing, string chain) =>
        Rules(listing, chain).Select(r => (long)r["handle"]!).ToList();
}
