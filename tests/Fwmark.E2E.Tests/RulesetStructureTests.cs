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
        Assert.Matches(@"set pods4-mark-00000010-00000010 \{\s+type ipv4_addr\n\s+counter\n", text);
        Assert.Matches(@"set pods6-mark-00000010-00000010 \{\s+type ipv6_addr\n\s+counter\n", text);
        Assert.DoesNotContain("map ", text, StringComparison.Ordinal); // no verdict maps: nothing for a commit to re-validate
        Assert.Matches(@"chain prerouting \{\s+type filter hook prerouting priority mangle; policy accept;", text);
        Assert.Contains("ct direction reply return", text);
        Assert.Contains("ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010", text);
        Assert.Contains("ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010", text);
        Assert.Matches(@"chain mark-00000010-00000010 \{\s+meta mark set meta mark [^\n]*0x00000010 counter", text);
        Assert.Matches(@"set ifaces-mark-00000010-00000010 \{\s+type ifname\n\s+counter\n", text);
        Assert.Contains("iifname @ifaces-mark-00000010-00000010 goto mark-00000010-00000010", text);
        Assert.Matches(@"chain replies \{\s+type filter hook prerouting priority mangle - 1; policy accept;\s+ct direction reply meta mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef counter", text);
        // The bridge table: the pod's host veth as a port, marked before the IP stack sees the frame.
        Assert.Matches(@"table bridge fwmark \{\s+set ports-mark-00000010-00000010 \{\s+type ifname\n\s+counter\n", text);
        Assert.Matches(@"chain prerouting \{\s+type filter hook prerouting priority filter; policy accept;\s+iifname @ports-mark-00000010-00000010 goto mark-00000010-00000010", text);

        var json = NftOracle.Json(bed.Node);
        var prerouting = Chain(json, "prerouting");
        Assert.Equal("filter", prerouting["type"]?.GetValue<string>());
        Assert.Equal("prerouting", prerouting["hook"]?.GetValue<string>());
        Assert.Equal(-150, prerouting["prio"]?.GetValue<int>());

        Assert.Empty(PluginBed.ElementsOf(bed.Node, pod)); // bridged: keyed by its port, not its addresses
        var port = Assert.Single(PluginBed.InterfaceElementsOf(bed.Node, pod));
        Assert.Equal(("bridge", "ports-mark-00000010-00000010", PluginBed.HostVeth(pod)), (port.Family, port.Set, port.Name));
        Assert.Matches(OwnerTag(), port.Comment);
        Assert.EndsWith($" {network.Name}/{pod.ContainerId}/eth0", port.Comment);
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
        Assert.NotEmpty(PluginBed.InterfaceElementsOf(bed.Node, pod));
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
