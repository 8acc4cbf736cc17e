using System.Net.Sockets;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>
/// Self-test of the routing testbed without the plugin: the rules, routes, mark and connmark rules the plugin is
/// specified to make are typed here by hand. If these fail, a failure of the plugin's routing tests says nothing
/// about the plugin: the VPN faults and their repair, the fast refusal and the strict reverse-path filter must
/// behave as the plugin tests assume.
/// </summary>
public sealed class RoutingTopologyTests
{
    private const uint Table = 2184;
    private const int Priority = 1000;

    [Fact]
    public void Hand_made_fail_closed_routing_refuses_a_marked_pod_without_leaking_while_the_vpn_uplink_is_deleted()
    {
        using var bed = NodeTestbed.Create();
        var network = PodNetwork.Create(bed, CniBinDir.SystemPlugins, "hand", 0, fwmark: null);
        var marked = network.AddPod("marked");
        var plain = network.AddPod("plain");
        InstallMarking(bed, marked, connmark: false);
        InstallRouting(bed);
        foreach (var ip in marked.Addresses)
        {
            bed.Main.Watch(ip);
        }

        foreach (var family in ExpectedRouting.Families)
        {
            AssertVia(bed, marked, family, EgressPath.Vpn);
        }

        VpnUplink.Delete(bed);

        foreach (var family in ExpectedRouting.Families)
        {
            var reply = bed.Ask(marked.Netns, family);
            Assert.False(reply.Connected, reply.Raw.Describe());
            Assert.True(reply.Elapsed < RoutedBed.FastFailure, $"not refused fast: {reply.Elapsed}\n{reply.Raw.Describe()}");
            Assert.Matches("No route to host|Network is unreachable", reply.Raw.Stderr);
            AssertVia(bed, plain, family, EgressPath.Main);
        }

        VpnUplink.Recreate(bed);
        InstallRouting(bed, defaultsOnly: true);

        foreach (var family in ExpectedRouting.Families)
        {
            AssertVia(bed, marked, family, EgressPath.Vpn);
        }

        Assert.All(marked.Addresses, ip => Assert.Equal(0, bed.Main.PacketsFrom(ip)));
    }

    [Theory]
    [InlineData(false, AddressFamily.InterNetwork)]
    [InlineData(true, AddressFamily.InterNetwork)]
    [InlineData(false, AddressFamily.InterNetworkV6)]
    [InlineData(true, AddressFamily.InterNetworkV6)]
    public void Hand_made_connmark_is_what_gets_vpn_replies_through_strict_reverse_path_filtering(bool connmark, AddressFamily family)
    {
        using var bed = NodeTestbed.Create();
        var network = PodNetwork.Create(bed, CniBinDir.SystemPlugins, "hand", 0, fwmark: null);
        var pod = network.AddPod("rp");
        InstallMarking(bed, pod, connmark);
        InstallRouting(bed);
        bed.Node.Sysctl("net.ipv4.conf.all.rp_filter=1", $"net.ipv4.conf.{bed.NodeVpnLink}.rp_filter=1", "net.ipv4.conf.all.src_valid_mark=1");
        bed.Node.Nft("""
            table inet fwe_rpfilter6 {
              chain check {
                type filter hook prerouting priority -140; policy accept;
                meta nfproto ipv6 fib saddr . mark . iif oif missing counter drop
              }
            }

            """);

        var reply = EchoClient.Ask(pod.Netns, RoutedBed.ServerOf(family), bed.Server.Port, TimeSpan.FromSeconds(2));

        if (connmark)
        {
            Assert.True(bed.PathOf(reply.Observed) == EgressPath.Vpn, reply.Raw.Describe());
        }
        else
        {
            Assert.False(reply.Connected, reply.Raw.Describe());
        }
    }

    private static void AssertVia(NodeTestbed bed, Pod pod, AddressFamily family, EgressPath expected)
    {
        var reply = bed.Ask(pod.Netns, family);
        Assert.True(bed.PathOf(reply.Observed) == expected, $"{pod.Name} {family}: expected {expected}\n{reply.Raw.Describe()}\n{IpRoutingOracle.Describe(bed.Node, Table)}");
    }

    /// <summary>What docs/routing.md says the plugin makes for 0x10/0x10, typed with iproute2.</summary>
    private static void InstallRouting(NodeTestbed bed, bool defaultsOnly = false)
    {
        foreach (var family in ExpectedRouting.Families)
        {
            var flag = IpRoutingOracle.FamilyFlag(family);
            if (!defaultsOnly)
            {
                bed.Node.Ip(flag, "rule", "add", "pref", $"{Priority}", "fwmark", ExpectedRouting.Selector, "lookup", "main", "suppress_prefixlength", "0");
                bed.Node.Ip(flag, "rule", "add", "pref", $"{Priority + 1}", "fwmark", ExpectedRouting.Selector, "lookup", $"{Table}");
                bed.Node.Ip(flag, "route", "add", "unreachable", "default", "metric", "4294967295", "table", $"{Table}");
            }

            bed.Node.Ip(flag, "route", "add", "default", "via", ExpectedRouting.GatewayOf(family).ToString(), "dev", bed.NodeVpnLink, "table", $"{Table}");
        }
    }

    /// <summary>The plugin's marking layout for one pod, and (connmark) its documented save and restore rules.</summary>
    private static void InstallMarking(NodeTestbed bed, Pod pod, bool connmark)
    {
        var save = connmark ? "ct mark set ct mark & 0xffffffef | 0x00000010" : "";
        var restore = connmark
            ? """
              chain connmark-00000010-00000010 {
                type filter hook prerouting priority mangle; policy accept;
                ct direction reply ct mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef | 0x00000010
              }
              """
            : "";
        bed.Node.Nft($$"""
            table inet fwmark {
              chain mark-00000010-00000010 {
                meta mark set meta mark & 0xffffffef | 0x00000010 counter
                {{save}}
              }
              chain prerouting {
                type filter hook prerouting priority mangle; policy accept;
                ct direction reply return
                ip saddr {{pod.IPv4}} goto mark-00000010-00000010
                ip6 saddr {{pod.IPv6}} goto mark-00000010-00000010
              }
              {{restore}}
            }

            """);
    }
}
