using System.Net;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.Testbed.Nftables;

/// <summary>
/// Reads what the kernel holds in a namespace, with the nft CLI as the independent oracle (never the
/// plugin's own decoder).
/// </summary>
public static class NftOracle
{
    public const string Table = "fwmark";

    /// <summary><c>nft list ruleset</c>, counters included.</summary>
    public static string Ruleset(Netns netns) => netns.Run("nft", "list", "ruleset").Stdout;

    /// <summary><c>nft -s list ruleset</c>: the whole ruleset without counter values (stable across traffic).</summary>
    public static string Stateless(Netns netns) => netns.Run("nft", "-s", "list", "ruleset").Stdout;

    /// <summary>The agent's owned guard table (same sets and chains as <see cref="Table"/>; in the bridge family too).</summary>
    public const string GuardTable = "fwmark-guard";

    /// <summary><c>nft list table inet fwmark</c> and <c>bridge fwmark</c>; empty string for a table that does not exist.</summary>
    public static string TableText(Netns netns)
    {
        var inet = netns.Exec("nft", "list", "table", "inet", Table);
        var bridge = netns.Exec("nft", "list", "table", "bridge", Table);
        return (inet.Succeeded ? inet.Stdout : "") + (bridge.Succeeded ? bridge.Stdout : "");
    }

    /// <summary><c>nft -j list ruleset</c> as the array under "nftables".</summary>
    public static JsonArray Json(Netns netns) =>
        JsonNode.Parse(netns.Run("nft", "-j", "list", "ruleset").Stdout)?["nftables"]?.AsArray()
        ?? throw new TestbedException($"failed to parse nft -j output in {netns}");

    /// <summary>
    /// Every element of the address sets in table inet fwmark (pods4-&lt;mark chain&gt;, pods6-&lt;mark chain&gt;),
    /// each with the verdict of the prerouting rule that looks its set up (normally goto the mark chain).
    /// </summary>
    public static IReadOnlyList<PodSetElement> Elements(Netns netns, string table = Table)
    {
        // One table, not the ruleset: nft 1.0.6's JSON output prints garbage for an owned table's flags
        // (the agent's guard table), which can break the JSON of the whole listing.
        var listing = netns.Exec("nft", "-j", "list", "table", "inet", table);
        if (!listing.Succeeded)
        {
            return [];
        }

        var json = JsonNode.Parse(listing.Stdout)?["nftables"]?.AsArray()
            ?? throw new TestbedException($"failed to parse nft -j output in {netns}");
        var verdicts = SetVerdicts(json, table);
        var elements = new List<PodSetElement>();
        foreach (var item in json)
        {
            var set = item?["set"];
            if (set is null || set["family"]?.GetValue<string>() != "inet" || set["table"]?.GetValue<string>() != table
                || set["type"]?.GetValue<string>() == "ifname")
            {
                continue;
            }

            var setName = set["name"]!.GetValue<string>();
            var (verdict, target) = verdicts.TryGetValue(setName, out var found) ? found : ("none", null);
            foreach (var element in set["elem"]?.AsArray() ?? [])
            {
                var (value, comment) = NftJson.Element(element);
                elements.Add(new PodSetElement(setName, IPAddress.Parse(value), comment, verdict, target));
            }
        }

        return elements;
    }

    /// <summary>Set name → (verdict, chain) of the prerouting rule matching <c>saddr @set</c>.</summary>
    private static Dictionary<string, (string Verdict, string? Target)> SetVerdicts(JsonArray json, string table)
    {
        var verdicts = new Dictionary<string, (string, string?)>(StringComparer.Ordinal);
        foreach (var item in json)
        {
            var rule = item?["rule"];
            if (rule is null || rule["family"]?.GetValue<string>() != "inet" || rule["table"]?.GetValue<string>() != table
                || rule["chain"]?.GetValue<string>() != "prerouting")
            {
                continue;
            }

            var expressions = rule["expr"]?.AsArray() ?? [];
            var set = expressions.Select(x => x?["match"]?["right"]).OfType<JsonValue>()
                .Select(v => v.TryGetValue<string>(out var text) ? text : null)
                .FirstOrDefault(text => text is not null && text.StartsWith('@'));
            var verdict = expressions.OfType<JsonObject>().Select(x => x.First()).FirstOrDefault(x => x.Key is "goto" or "jump");
            if (set is not null && verdict.Key is not null)
            {
                verdicts[set[1..]] = (verdict.Key, verdict.Value?["target"]?.GetValue<string>());
            }
        }

        return verdicts;
    }

    /// <summary>
    /// How many chains, rules, sets and set elements <c>table FAMILY fwmark</c> holds (the table itself not
    /// counted); null when the table does not exist. Layout-free: only totals, for a caller that compares
    /// populations (the benchmark).
    /// </summary>
    public static int? ObjectCount(Netns netns, string family = "inet")
    {
        var listing = netns.Exec("nft", "-j", "list", "table", family, Table);
        if (!listing.Succeeded)
        {
            // nft says "No such file or directory" for a missing table; anything else is a real failure.
            return listing.Stderr.Contains("No such file or directory", StringComparison.Ordinal)
                ? null
                : throw new TestbedException($"failed to list table {family} {Table} in {netns}: {listing.Describe()}");
        }

        var count = 0;
        foreach (var item in JsonNode.Parse(listing.Stdout)?["nftables"]?.AsArray() ?? [])
        {
            if (item is not JsonObject entry)
            {
                continue;
            }

            if (entry.ContainsKey("chain") || entry.ContainsKey("rule"))
            {
                count++;
            }

            if ((entry["set"] ?? entry["map"]) is JsonObject set)
            {
                count += 1 + ((set["elem"] as JsonArray)?.Count ?? 0);
            }
        }

        return count;
    }

    /// <summary>
    /// <see cref="ObjectCount"/> of <c>inet fwmark</c> plus <c>bridge fwmark</c> (bridge-port keys live there); null
    /// when neither table exists.
    /// </summary>
    public static int? PluginObjectCount(Netns netns) =>
        (ObjectCount(netns, "inet"), ObjectCount(netns, "bridge")) switch
        {
            (null, null) => null,
            var (inet, bridge) => (inet ?? 0) + (bridge ?? 0),
        };

    /// <summary>
    /// Every element of the ifname sets of both tables named <paramref name="table"/>: bridge ports (<c>bridge fwmark</c>,
    /// ports-&lt;mark chain&gt;) and routed input interfaces (<c>inet fwmark</c>, ifaces-&lt;mark chain&gt;).
    /// </summary>
    public static IReadOnlyList<InterfaceElement> InterfaceElements(Netns netns, string table = Table)
    {
        var elements = new List<InterfaceElement>();
        foreach (var set in new[] { "inet", "bridge" }.SelectMany(family => TableJson(netns, family, table)).Select(item => item?["set"]).OfType<JsonObject>())
        {
            if (set["table"]?.GetValue<string>() != table || set["type"]?.GetValue<string>() != "ifname")
            {
                continue;
            }

            foreach (var element in set["elem"]?.AsArray() ?? [])
            {
                var (value, comment) = element is JsonObject o && o["elem"] is JsonObject e
                    ? (e["val"]!.GetValue<string>(), e["comment"]?.GetValue<string>())
                    : (element!.GetValue<string>(), null);
                elements.Add(new InterfaceElement(set["family"]!.GetValue<string>(), set["name"]!.GetValue<string>(), value, comment));
            }
        }

        return elements;
    }

    /// <summary>
    /// <c>nft -j list table FAMILY TABLE</c> as the array under "nftables"; empty when the table does not exist. One
    /// table, not the ruleset: nft 1.0.6's JSON for an owned table's flags (the agent's guard) can break the whole listing.
    /// </summary>
    private static JsonArray TableJson(Netns netns, string family, string table)
    {
        var listing = netns.Exec("nft", "-j", "list", "table", family, table);
        return listing.Succeeded
            ? JsonNode.Parse(listing.Stdout)?["nftables"]?.AsArray() ?? throw new TestbedException($"failed to parse nft -j output in {netns}")
            : [];
    }

    /// <summary>
    /// Every key of both fwmark tables as one list: the address elements of <c>inet fwmark</c> and the ifname
    /// elements of both tables (a pod behind a bridge is keyed by its bridge port, not its addresses).
    /// </summary>
    public static IReadOnlyList<PodKey> Keys(Netns netns, string table = Table) =>
    [
        .. Elements(netns, table).Select(e => new PodKey("inet", e.Set, e.Address.ToString(), e.Comment)),
        .. InterfaceElements(netns, table).Select(e => new PodKey(e.Family, e.Set, e.Name, e.Comment)),
    ];

    /// <summary>The elements for <paramref name="address"/> (normally zero or one).</summary>
    public static IReadOnlyList<PodSetElement> ElementsFor(Netns netns, IPAddress address) =>
        [.. Elements(netns).Where(e => e.Address.Equals(address))];
}

/// <summary>
/// One element of a pod set (<see cref="Set"/> is the set's name, e.g. pods4-mark-00000010-00000010), with its
/// owner comment and what the prerouting rule does with its addresses (e.g. goto mark-00000010-00000010;
/// "none" when no rule looks the set up).
/// </summary>
public sealed record PodSetElement(string Set, IPAddress Address, string? Comment, string Verdict, string? Target);

/// <summary>One element of an ifname set: the table's family ("bridge" or "inet"), the set, the interface name and its owner comment.</summary>
public sealed record InterfaceElement(string Family, string Set, string Name, string? Comment);

/// <summary>One key element of either fwmark table: its family, set, key (address or interface name) and owner comment.</summary>
public sealed record PodKey(string Family, string Set, string Key, string? Comment)
{
    /// <summary>Whether this is a bridge-port key (set ports-&lt;mark chain&gt; of <c>bridge fwmark</c>).</summary>
    public bool IsBridgePort => Family == "bridge" && Set.StartsWith("ports-", StringComparison.Ordinal);
}
