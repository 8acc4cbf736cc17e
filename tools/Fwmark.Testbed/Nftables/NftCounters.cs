using System.Text.Json.Nodes;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.Testbed.Nftables;

/// <summary>Reads rule counters back through <c>nft -j</c>; rules are found by their comment.</summary>
public static class NftCounters
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
}
