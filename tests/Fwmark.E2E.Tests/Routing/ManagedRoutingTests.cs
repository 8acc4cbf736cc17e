using System.Net.Sockets;
using Fwmark.Testbed.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>
/// Issue 3: a mark with <c>route</c> replaces the operator's out-of-band <c>ip rule</c>/<c>ip route</c>. No rule is
/// typed by these tests; the node starts with the kernel's three default rules and an empty table T.
/// </summary>
public sealed class ManagedRoutingTests
{
    [Fact]
    public void Route_in_the_config_alone_steers_the_annotated_pod_through_the_vpn_on_both_families()
    {
        using var bed = RoutedBed.Create();
        foreach (var family in ExpectedRouting.Families)
        {
            Assert.Empty(ExpectedRouting.OurRules(bed.Node, family));
            Assert.Empty(IpRoutingOracle.Routes(bed.Node, family, RoutedBed.Table));
        }

        var marked = bed.AddMarked("vpn");
        var plain = bed.AddPlain("plain");
        foreach (var ip in marked.Addresses.Concat(plain.Addresses))
        {
            bed.Bed.Main.Watch(ip);
            bed.Bed.Vpn.Watch(ip);
        }

        ExpectedRouting.AssertInstalled(bed.Node, RoutedBed.DocumentedDefaultPriority, RoutedBed.Table, bed.Bed.NodeVpnLink, "after the first ADD");
        foreach (var family in ExpectedRouting.Families)
        {
            bed.AssertPath(marked, family, EgressPath.Vpn, "annotated pod");
            bed.AssertPath(plain, family, EgressPath.Main, "plain pod");
        }

        foreach (var ip in marked.Addresses)
        {
            Assert.True(bed.Bed.Main.PacketsFrom(ip) == 0, $"packets of the annotated pod's {ip} reached the main gateway\n{bed.Diagnostics()}");
            Assert.True(bed.Bed.Vpn.PacketsFrom(ip) > 0, $"no packet of the annotated pod's {ip} reached the VPN gateway");
        }

        foreach (var ip in plain.Addresses)
        {
            Assert.True(bed.Bed.Vpn.PacketsFrom(ip) == 0, $"packets of the plain pod's {ip} reached the VPN gateway\n{bed.Diagnostics()}");
        }
    }

    [Fact]
    public void Marked_traffic_to_a_host_on_the_main_uplinks_subnet_keeps_the_main_tables_specific_route()
    {
        // The main gateway's own address is on the node's main uplink subnet (a "LAN" host): main's connected
        // route must win over table T (suppress_prefixlength 0 only rejects main's default). Through table T the
        // packet would go to the VPN gateway, which has no way to it, and the connection would fail.
        using var bed = RoutedBed.Create();
        var lanServer = EchoServer.Start(bed.Bed.Main.Netns, bed.Bed.Cleanup, EchoServer.DefaultPort + 1, Addresses.MainGwInnerV4, Addresses.MainGwInnerV6);
        var marked = bed.AddMarked("lan");
        foreach (var ip in marked.Addresses)
        {
            bed.Bed.Vpn.Watch(ip);
            bed.Bed.Main.Watch(ip);
        }

        foreach (var family in ExpectedRouting.Families)
        {
            var podIp = RoutedBed.AddressOf(marked, family);
            var lanHost = family == AddressFamily.InterNetworkV6 ? Addresses.MainGwInnerV6 : Addresses.MainGwInnerV4;
            var vpnBefore = bed.Bed.Vpn.PacketsFrom(podIp);

            var reply = EchoClient.Ask(marked.Netns, lanHost, lanServer.Port);

            // Not masqueraded anywhere on the way: the LAN host sees the pod's own address.
            Assert.True(podIp.Equals(reply.Observed), $"{family}: the LAN host {lanHost} saw {reply.Observed?.ToString() ?? "nothing"}, expected the pod {podIp}\n{reply.Raw.Describe()}\n{bed.Diagnostics()}");
            Assert.True(bed.Bed.Main.PacketsFrom(podIp) > 0, $"{family}: nothing of the pod counted at the main gateway");
            Assert.True(bed.Bed.Vpn.PacketsFrom(podIp) == vpnBefore, $"{family}: LAN traffic of the pod reached the VPN gateway\n{bed.Diagnostics()}");

            // And the same pod's internet traffic is still steered: the suppress rule did not swallow everything.
            bed.AssertPath(marked, family, EgressPath.Vpn, "internet traffic of the same pod");
        }
    }
}
