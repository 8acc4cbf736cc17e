using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests;

/// <summary>
/// The product's promise measured on real TCP connections: which gateway did the server see the pod's
/// traffic come from. Each test builds its own node, gateways and pods.
/// </summary>
public sealed class SteeringTests
{
    private const AddressFamily V4 = AddressFamily.InterNetwork;
    private const AddressFamily V6 = AddressFamily.InterNetworkV6;

    [Fact]
    public void Annotated_pod_leaves_through_the_vpn_and_a_plain_pod_through_main()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var annotated = network.AddPod("vpn", FwmarkPluginConfig.Annotated("vpn"));
        var plain = network.AddPod("plain");
        bed.Bed.Main.Watch(annotated.IPv4);

        bed.AssertPath(annotated, V4, EgressPath.Vpn);
        bed.AssertPath(plain, V4, EgressPath.Main);
        Assert.Equal(0, bed.Bed.Main.PacketsFrom(annotated.IPv4));
        Assert.Empty(PluginBed.ElementsOf(bed.Node, plain));
    }

    [Fact]
    public void DefaultMark_network_steers_every_container()
    {
        // The podman case: no annotations, CNI 0.4.0, every container of the network goes through the VPN.
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.VpnForEveryone(), "mustredirect", cniVersion: "0.4.0");
        var first = network.AddPod("c1", cniArgs: PodNetwork.PodmanArgs("c1"));
        var second = network.AddPod("c2", cniArgs: PodNetwork.PodmanArgs("c2"));
        foreach (var ip in first.Addresses.Concat(second.Addresses))
        {
            bed.Bed.Main.Watch(ip);
        }

        foreach (var container in new[] { first, second })
        {
            bed.AssertPath(container, V4, EgressPath.Vpn);
            bed.AssertPath(container, V6, EgressPath.Vpn);
        }

        Assert.All(first.Addresses.Concat(second.Addresses), ip => Assert.Equal(0, bed.Bed.Main.PacketsFrom(ip)));
    }

    [Fact]
    public void Dual_stack_pod_is_steered_on_both_families()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var pod = network.AddPod("dual", FwmarkPluginConfig.Annotated("vpn"));
        bed.Bed.Main.Watch(pod.IPv4);
        bed.Bed.Main.Watch(pod.IPv6);

        bed.AssertPath(pod, V4, EgressPath.Vpn);
        bed.AssertPath(pod, V6, EgressPath.Vpn);

        // Both families through one key: the pod's host veth as a bridge port; no address is keyed at all.
        var port = Assert.Single(PluginBed.InterfaceElementsOf(bed.Node, pod));
        Assert.Equal(("bridge", "ports-mark-00000010-00000010"), (port.Family, port.Set));
        Assert.Empty(PluginBed.ElementsOf(bed.Node, pod));
        Assert.Equal(0, bed.Bed.Main.PacketsFrom(pod.IPv4));
        Assert.Equal(0, bed.Bed.Main.PacketsFrom(pod.IPv6));
    }

    [Fact]
    public void Inbound_connection_to_a_steered_pod_is_answered_through_main()
    {
        // A client outside the cluster opens a connection toward the pod (NodePort/hostPort style): the pod's
        // replies must keep the symmetric main path, while the pod's own connections still use the VPN.
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var pod = network.AddPod("svc", FwmarkPluginConfig.Annotated("vpn"));
        EchoServer.Start(pod.Netns, bed.Bed.Cleanup, EchoServer.DefaultPort, pod.IPv4);
        bed.Bed.RoutePodsFromInetVia(bed.Bed.Main);
        bed.Bed.Main.Watch(pod.IPv4);
        bed.Bed.Vpn.Watch(pod.IPv4);

        var reply = EchoClient.Ask(bed.Bed.Inet, pod.IPv4);

        Assert.True(reply.Connected, $"{reply.Raw.Describe()}\n{bed.Diagnostics()}");
        Assert.Equal(Addresses.InetMainSideV4, reply.Observed);
        Assert.True(bed.Bed.Vpn.PacketsFrom(pod.IPv4) == 0, $"replies of the pod went to the VPN gateway\n{bed.Diagnostics()}");
        Assert.True(bed.Bed.Main.PacketsFrom(pod.IPv4) > 0, "no reply of the pod reached the main gateway");
        bed.AssertPath(pod, V4, EgressPath.Vpn);
    }

    public static TheoryData<string> SelectionSources => ["annotation", "CNI_ARGS", "namespace"];

    [Theory]
    [MemberData(nameof(SelectionSources))]
    public void Each_selection_source_steers_the_pod(string source)
    {
        using var bed = PluginBed.Create();
        var config = FwmarkPluginConfig.Vpn();
        config["namespaces"] = new JsonObject { ["secure"] = "vpn" };
        var network = bed.Network(config);
        var pod = source switch
        {
            "annotation" => network.AddPod("sel", FwmarkPluginConfig.Annotated("vpn")),
            "CNI_ARGS" => network.AddPod("sel", cniArgs: PodNetwork.PodmanArgs("sel", "FWMARK_NAME=vpn")),
            _ => network.AddPod("sel", cniArgs: PodNetwork.KubernetesArgs("sel", "cid-sel", "secure")),
        };
        var control = network.AddPod("ctl", cniArgs: PodNetwork.KubernetesArgs("ctl", "cid-ctl", "other"));

        bed.AssertPath(pod, V4, EgressPath.Vpn);
        bed.AssertPath(control, V4, EgressPath.Main);
    }

    [Theory]
    [InlineData(0x100u, 0x10u, 0x10u, 0x110u)]
    [InlineData(0x1f0u, 0x10u, 0xf0u, 0x110u)]
    public void Bits_outside_the_mask_survive(uint preset, uint mark, uint mask, uint expected)
    {
        // Someone else's mark is already on the frame (set in a bridge-family chain before the plugin's at -200);
        // a later inet chain sees what the plugin left: mark = (preset & ~mask) | value.
        using var bed = PluginBed.Create(mark: mark, mask: mask);
        var network = bed.Network(FwmarkPluginConfig.Vpn(mark, mask));
        var pod = network.AddPod("mask", FwmarkPluginConfig.Annotated("vpn"));
        bed.Node.Nft($$"""
            table bridge fwe_probe {
              chain before {
                type filter hook prerouting priority -300; policy accept;
                ip saddr {{pod.IPv4}} meta mark set 0x{{preset:x}}
              }
            }
            table inet fwe_probe {
              chain after {
                type filter hook prerouting priority filter; policy accept;
                ip saddr {{pod.IPv4}} meta mark 0x{{expected:x}} counter comment "expected"
                ip saddr {{pod.IPv4}} counter comment "all"
              }
            }

            """);

        bed.AssertPath(pod, V4, EgressPath.Vpn);

        var all = NftCounters.Packets(bed.Node, "inet", "fwe_probe", "after", "all");
        var asExpected = NftCounters.Packets(bed.Node, "inet", "fwe_probe", "after", "expected");
        Assert.True(all > 0, "no packet of the pod was counted after the plugin's chain");
        Assert.True(asExpected == all, $"{all} packets, only {asExpected} carried mark 0x{expected:x}\n{bed.Diagnostics()}");
    }
}
