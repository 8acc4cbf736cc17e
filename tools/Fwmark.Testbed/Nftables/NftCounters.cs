using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.Testbed.Nftables;

/// <summary>Reads counters back through nft: counted rules (found by their comment) and named counter objects.</summary>
public static partial class NftCounters
{
    /// <summary>Packets counted by the rule commented <paramref name="comment"/> in family/table/chain.</summary>
    public static long Packets(Netns netns, string family, string table, string chain, string comment)
    {
        var json = JsonNode.Parse(netns.Run("nft", "-j", "list", "chain", family, table, chain).Stdout);
        foreach (var item in json?["nftables"]?.AsArray() ?? [])
        {
            var rule = item?["rule"];
            if (rule?["comment"]?.GetValue<string>() != comment)
            {
                continue;
            }

            foreach (var expr in rule["expr"]?.AsArray() ?? [])
            {
                if (expr?["counter"]?["packets"] is JsonNode packets)
                {
                    return packets.GetValue<long>();
                }
            }
        }

        throw new TestbedException($"failed to read counter \"{comment}\" in {family} {table} {chain} of {netns}: no such counted rule");
    }

    /// <summary>Packets counted by the named counter object <paramref name="counter"/> (<c>nft list counter</c>).</summary>
    public static long Named(Netns netns, string family, string table, string counter)
    {
        var text = netns.Run("nft", "list", "counter", family, table, counter).Stdout;
        var match = PacketsPattern().Match(text);
        return match.Success
            ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : throw new TestbedException($"failed to read counter {family} {table} {counter} of {netns}: no packet count in: {text}");
    }

    [GeneratedRegex(@"packets (\d+)")]
    private static partial Regex PacketsPattern();
}
