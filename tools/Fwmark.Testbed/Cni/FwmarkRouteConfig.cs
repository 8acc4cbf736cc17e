using System.Text.Json.Nodes;
using Fwmark.Testbed.Topology;

namespace Fwmark.Testbed.Cni;

/// <summary>
/// Plugin objects whose mark carries a <c>route</c> (docs/routing.md): the plugin makes the node's policy
/// routing for it, so the testbed's hand-made <see cref="NodeTestbed.EnableVpnPolicyRouting"/> is not used.
/// </summary>
public static class FwmarkRouteConfig
{
    /// <summary>
    /// <see cref="FwmarkPluginConfig.Vpn"/> whose mark "vpn" is routed through the node's VPN uplink:
    /// <c>"route": {"table": T, "gateway": [VPN gw v4, VPN gw v6], "device": VPN uplink}</c>, plus
    /// <c>priority</c>/<c>failClosed</c> and the top-level <c>connmark</c> only when given (defaults otherwise).
    /// </summary>
    public static JsonObject Vpn(NodeTestbed bed, uint table, uint? priority = null, bool? failClosed = null, bool? connmark = null, uint mark = 0x10, uint mask = 0x10)
    {
        var config = FwmarkPluginConfig.Vpn(mark, mask);
        config["marks"]!["vpn"]!["route"] = VpnRoute(bed, table, priority, failClosed);
        if (connmark is { } on)
        {
            config["connmark"] = on;
        }

        return config;
    }

    /// <summary>The <c>route</c> object alone.</summary>
    public static JsonObject VpnRoute(NodeTestbed bed, uint table, uint? priority = null, bool? failClosed = null)
    {
        var route = new JsonObject
        {
            ["table"] = table,
            ["gateway"] = new JsonArray(Addresses.VpnGwInnerV4.ToString(), Addresses.VpnGwInnerV6.ToString()),
            ["device"] = bed.NodeVpnLink,
        };
        if (priority is { } p)
        {
            route["priority"] = p;
        }

        if (failClosed is { } closed)
        {
            route["failClosed"] = closed;
        }

        return route;
    }
}
