using System.Net.Sockets;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests;

/// <summary>
/// Self-test of the testbed without the plugin: the real bridge/host-local chain, the two gateways, and a
/// hand-installed copy of the ruleset layout the plugin is expected to produce. If these fail, a plugin
/// test failure says nothing about the plugin.
/// </summary>
public sealed class TopologyTests
{
    [Fact]
    public void Plain_pod_leaves_through_the_main_gateway_on_both_families()
    {
        using var bed = NodeTestbed.Create();
        bed.EnableVpnPolicyRouting();
        var network = PodNetwork.Create(bed, CniBinDir.SystemPlugins, "plain", 0, fwmark: null);
        var pod = network.AddPod("plain");

        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var reply = bed.Ask(pod.Netns, family);
            Assert.True(bed.PathOf(reply.Observed) == EgressPath.Main, reply.Raw.Describe());
        }
    }

    [Fact]
    public void Hand_installed_fwmark_layout_steers_only_the_listed_pod_through_the_vpn()
    {
        using var bed = NodeTestbed.Create();
        bed.EnableVpnPolicyRouting();
        var network = PodNetwork.Create(bed, CniBinDir.SystemPlugins, "hand", 0, fwmark: null);
        var marked = network.AddPod("marked");
        var plain = network.AddPod("plain");
        InstallExpectedLayout(bed, marked);
        foreach (var ip in marked.Addresses)
        {
            bed.Main.Watch(ip);
            bed.Vpn.Watch(ip);
        }

        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var steered = bed.Ask(marked.Netns, family);
            Assert.True(bed.PathOf(steered.Observed) == EgressPath.Vpn, steered.Raw.Describe());
            var unsteered = bed.Ask(plain.Netns, family);
            Assert.True(bed.PathOf(unsteered.Observed) == EgressPath.Main, unsteered.Raw.Describe());
        }

        foreach (var ip in marked.Addresses)
        {
            Assert.Equal(0, bed.Main.PacketsFrom(ip));
            Assert.True(bed.Vpn.PacketsFrom(ip) > 0, $"no packet from {ip} counted at the VPN gateway");
        }
    }

    [Fact]
    public void Without_policy_routing_a_marked_pod_still_leaves_through_main()
    {
        // The VPN path must come from mark + rules, not from some accident of the topology.
        using var bed = NodeTestbed.Create();
        var network = PodNetwork.Create(bed, CniBinDir.SystemPlugins, "norules", 0, fwmark: null);
        var marked = network.AddPod("marked");
        InstallExpectedLayout(bed, marked);

        var reply = bed.Ask(marked.Netns, AddressFamily.InterNetwork);

        Assert.True(bed.PathOf(reply.Observed) == EgressPath.Main, reply.Raw.Describe());
    }

    /// <summary>The layout the plugin is specified to produce, for one pod, with mark 0x10/0x10.</summary>
    private static void InstallExpectedLayout(NodeTestbed bed, Pod pod) =>
        bed.Node.Nft($$"""
            table inet fwmark {
              set pods4-mark-00000010-00000010 { type ipv4_addr; elements = { {{pod.IPv4}} comment "00000000.0000000000000000 hand/{{pod.ContainerId}}/eth0" }; }
              set pods6-mark-00000010-00000010 { type ipv6_addr; elements = { {{pod.IPv6}} comment "00000000.0000000000000000 hand/{{pod.ContainerId}}/eth0" }; }
              chain mark-00000010-00000010 { meta mark set meta mark & 0xffffffef | 0x00000010 counter; }
              chain prerouting {
                type filter hook prerouting priority mangle; policy accept;
                ct direction reply return comment "replies to connections opened toward the pod keep the main path"
                ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010
                ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010
              }
            }

            """);
}
