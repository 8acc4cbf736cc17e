using Fwmark.Cni;
using Fwmark.Core.Config;

namespace Fwmark.Core.Tests.Routing;

/// <summary>Config combinations that would steer a pod through the wrong table, or touch every reply.</summary>
public class MarkConflictTests
{
    private static CniException Fails(string json) =>
        Assert.Throws<CniException>(() => PluginConfigParser.Parse(System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject()));

    [Fact]
    public void Marks_sharing_a_table_with_the_same_gateway_are_accepted()
    {
        // Two separately parsed, equal addresses: a reference comparison would call them different.
        var config = PluginConfigParser.Parse(System.Text.Json.Nodes.JsonNode.Parse("""
            {"marks": {"a": {"mark": 16, "mask": 16, "route": {"table": 100, "gateway": "192.0.2.1"}},
                       "b": {"mark": 32, "mask": 32, "route": {"table": 100, "gateway": "192.0.2.1"}}}}
            """)!.AsObject());

        Assert.Equal(2, config.Routes.Count);
    }

    [Fact]
    public void Overlapping_selectors_with_different_routes_are_rejected()
    {
        var e = Fails("""
            {"marks": {"a": {"mark": 16, "mask": 16, "route": {"table": 100, "gateway": "192.0.2.1"}},
                       "b": {"mark": 48, "mask": 48, "route": {"table": 200, "gateway": "198.51.100.1"}}}}
            """);

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal("""invalid fwmark config: marks.b.route: mark 0x30/0x30 can match the same packets as mark "a" (0x10/0x10), which routes differently (give them bits that differ inside both masks, or the same route)""", e.Message);
    }

    [Fact]
    public void Selectors_that_differ_inside_both_masks_may_route_differently()
    {
        var config = PluginConfigParser.Parse(System.Text.Json.Nodes.JsonNode.Parse("""
            {"marks": {"a": {"mark": "0x10", "mask": "0x30", "route": {"table": 100, "device": "wg0"}},
                       "b": {"mark": "0x20", "mask": "0x30", "route": {"table": 200, "device": "wg1"}}}}
            """)!.AsObject());

        Assert.Equal(2, config.Routes.Count);
    }

    [Fact]
    public void Connmark_with_a_zero_mark_is_rejected()
    {
        var e = Fails("""{"marks": {"none": {"mark": 0, "mask": 16}, "vpn": {"mark": 16, "mask": 16}}, "connmark": true}""");

        Assert.Equal("""invalid fwmark config: connmark: true is not allowed with mark "none", whose value is 0 (restoring it would rewrite the mask bits of almost every reply on the node)""", e.Message);
    }
}
