using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;

namespace Fwmark.E2E.Tests;

/// <summary>The objects the plugin creates, as <c>nft</c> (not the plugin) reports them.</summary>
public sealed partial class RulesetStructureTests
{
    [Fact]
    public void Table_has_the_specified_sets_chains_and_owner_tagged_elements()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var pod = network.AddPod("layout", FwmarkPluginConfig.Annotated("vpn"));

        var text = NftOracle.TableText(bed.Node);
        Assert.Matches(@"set pods4-mark-00000010-00000010 \{\s+type ipv4_addr\n", text);
        Assert.Matches(@"set pods6-mark-00000010-00000010 \{\s+type ipv6_addr\n", text);
        Assert.DoesNotContain("map ", text, StringComparison.Ordinal); // no verdict maps: nothing for a commit to re-validate
        Assert.Matches(@"chain prerouting \{\s+type filter hook prerouting priority mangle; policy accept;", text);
        Assert.Contains("ct direction reply return", text);
        Assert.Contains("ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010", text);
        Assert.Contains("ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010", text);
        Assert.Matches(@"chain mark-00000010-00000010 \{\s+meta mark set meta mark [^\n]*0x00000010 counter", text);

        var json = NftOracle.Json(bed.Node);
        var prerouting = Chain(json, "prerouting");
        Assert.Equal("filter", prerouting["type"]?.GetValue<string>());
        Assert.Equal("prerouting", prerouting["hook"]?.GetValue<string>());
        Assert.Equal(-150, prerouting["prio"]?.GetValue<int>());

        var elements = PluginBed.ElementsOf(bed.Node, pod);
        Assert.Equal(2, elements.Count);
        Assert.All(elements, e =>
        {
            Assert.Equal("goto", e.Verdict);
            Assert.Equal("mark-00000010-00000010", e.Target);
            Assert.Matches(OwnerTag(), e.Comment);
            Assert.EndsWith($" {network.Name}/{pod.ContainerId}/eth0", e.Comment);
        });
    }

    [Fact]
    public void Plugin_touches_nothing_outside_its_table()
    {
        using var bed = PluginBed.Create();
        // Someone else's tables on the node, including one named like ours in another family.
        const string Foreign = """
            table ip fwmark {
              chain c {
                type filter hook prerouting priority mangle; policy accept;
                meta mark 0x10 counter
              }
            }
            table inet other {
              set s {
                type ipv4_addr
                elements = { 10.88.0.2 }
              }
              chain c {
                type filter hook prerouting priority raw; policy accept;
                ip saddr @s counter
              }
            }

            """;
        bed.Node.Nft(Foreign);
        var foreignBefore = ForeignTables(bed);
        var network = bed.Network(FwmarkPluginConfig.Vpn());

        var pod = network.AddPod("canary", FwmarkPluginConfig.Annotated("vpn"));
        Assert.NotEmpty(PluginBed.ElementsOf(bed.Node, pod));
        Assert.Equal(foreignBefore, ForeignTables(bed));

        Assert.True(network.Del(pod).Succeeded);
        Assert.Equal(foreignBefore, ForeignTables(bed));
    }

    private static string ForeignTables(PluginBed bed) =>
        bed.Node.Run("nft", "-s", "list", "table", "ip", "fwmark").Stdout + bed.Node.Run("nft", "-s", "list", "table", "inet", "other").Stdout;

    private static JsonObject Chain(JsonArray ruleset, string name) =>
        ruleset.Select(i => i?["chain"]).OfType<JsonObject>()
            .Single(c => c["family"]?.GetValue<string>() == "inet" && c["table"]?.GetValue<string>() == NftOracle.Table && c["name"]?.GetValue<string>() == name);

    [GeneratedRegex(@"^[0-9a-f]{8}\.[0-9a-f]{16} ")]
    private static partial Regex OwnerTag();
}
