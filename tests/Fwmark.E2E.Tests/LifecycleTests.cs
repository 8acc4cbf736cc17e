using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests;

/// <summary>DEL, CHECK and GC against the kernel: only the attachment's own elements go, others stay.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public void Del_with_prevResult_removes_only_that_pods_elements()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var gone = network.AddPod("gone", FwmarkPluginConfig.Annotated("vpn"));
        var stays = network.AddPod("stays", FwmarkPluginConfig.Annotated("vpn"));
        Assert.Single(PluginBed.InterfaceElementsOf(bed.Node, gone));

        AssertOk(network.Del(gone));

        AssertGone(bed, gone);
        AssertOwned(bed, stays, network.Name);
        bed.AssertPath(stays, AddressFamily.InterNetwork, EgressPath.Vpn);
    }

    [Fact]
    public void Del_without_prevResult_removes_the_elements()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var gone = network.AddPod("gone", FwmarkPluginConfig.Annotated("vpn"));
        var stays = network.AddPod("stays", FwmarkPluginConfig.Annotated("vpn"));

        AssertOk(network.Del(gone, withPrevResult: false));

        AssertGone(bed, gone);
        AssertOwned(bed, stays, network.Name);
    }

    [Fact]
    public void Del_twice_succeeds()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var gone = network.AddPod("gone", FwmarkPluginConfig.Annotated("vpn"));
        var stays = network.AddPod("stays", FwmarkPluginConfig.Annotated("vpn"));

        AssertOk(network.Del(gone));
        AssertOk(network.Del(gone));
        AssertOk(network.Del(gone, withPrevResult: false));

        AssertGone(bed, gone);
        AssertOwned(bed, stays, network.Name);
    }

    [Fact]
    public void Del_of_a_never_added_container_succeeds_and_touches_nothing()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var stays = network.AddPod("stays", FwmarkPluginConfig.Annotated("vpn"));
        var stranger = network.NewPod("stranger", FwmarkPluginConfig.Annotated("vpn"));
        var before = NftOracle.Stateless(bed.Node);

        AssertOk(network.Del(stranger, withPrevResult: false));

        Assert.Equal(before, NftOracle.Stateless(bed.Node));
        AssertOwned(bed, stays, network.Name);
    }

    [Fact]
    public void Reused_ip_belongs_to_the_newest_pod_and_survives_the_old_pods_del()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var old = network.AddPod("old", FwmarkPluginConfig.Annotated("vpn"));
        var reuser = network.AddPod("new", FwmarkPluginConfig.Annotated("vpn"));
        // A runtime handed old's addresses to the new pod before old's DEL arrived (IPAM reuse after a lost DEL):
        // the new pod's own result, with old's addresses.
        var crafted = reuser.AddResult!.DeepClone().AsObject();
        crafted["ips"] = old.AddResult!["ips"]!.DeepClone();
        var add = network.Chain.Invoke("fwmark", CniChain.Add, reuser.Attachment, crafted);
        Assert.True(add.Succeeded, add.Describe());

        AssertOk(network.Del(old));

        AssertGone(bed, old);
        AssertOwned(bed, reuser, network.Name);
        bed.AssertPath(reuser, AddressFamily.InterNetwork, EgressPath.Vpn);
    }

    [Fact]
    public void Reused_veth_name_belongs_to_the_newest_pod_and_survives_the_old_pods_del()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var old = network.AddPod("old", FwmarkPluginConfig.Annotated("vpn"));
        var oldVeth = PluginBed.HostVeth(old);
        // old's veth disappears without a DEL (the pod died), and the next pod's host veth gets its name.
        bed.Node.Ip("link", "del", oldVeth);
        var reuser = network.AddPod("new", FwmarkPluginConfig.Annotated("vpn"));
        var newVeth = PluginBed.HostVeth(reuser);
        bed.Node.Ip("link", "set", newVeth, "down");
        bed.Node.Ip("link", "set", newVeth, "name", oldVeth);
        bed.Node.Ip("link", "set", oldVeth, "up");
        var renamed = reuser.AddResult!.DeepClone().AsObject();
        foreach (var iface in renamed["interfaces"]!.AsArray())
        {
            if (iface?["name"]?.GetValue<string>() == newVeth)
            {
                iface["name"] = oldVeth;
            }
        }

        var add = network.Chain.Invoke("fwmark", CniChain.Add, reuser.Attachment, renamed);
        Assert.True(add.Succeeded, add.Describe());
        var port = Assert.Single(NftOracle.InterfaceElements(bed.Node), e => e.Name == oldVeth);
        Assert.Contains(reuser.ContainerId, port.Comment);

        // The late DEL of the old pod names the same interface: the element is the new pod's and stays.
        AssertOk(network.Chain.RunDel(old.Attachment, old.AddResult));

        port = Assert.Single(NftOracle.InterfaceElements(bed.Node), e => e.Name == oldVeth);
        Assert.Contains($"{network.Name}/{reuser.ContainerId}/eth0", port.Comment);
        var check = network.Chain.Invoke("fwmark", CniChain.Check, reuser.Attachment, renamed);
        Assert.True(check.Succeeded, check.Describe());
        bed.AssertPath(reuser, AddressFamily.InterNetwork, EgressPath.Vpn);
    }

    [Fact]
    public void Check_passes_until_the_element_is_removed_behind_the_plugins_back()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var pod = network.AddPod("chk", FwmarkPluginConfig.Annotated("vpn"));

        var healthy = network.Chain.RunCheck(pod.Attachment, pod.AddResult!);
        Assert.True(healthy.Succeeded, healthy.Describe());

        var port = Assert.Single(PluginBed.InterfaceElementsOf(bed.Node, pod));
        bed.Node.Run("nft", "delete", "element", port.Family, "fwmark", port.Set, $"{{ \"{port.Name}\" }}");
        var broken = network.Chain.RunCheck(pod.Attachment, pod.AddResult!);

        var failed = broken.Failed;
        Assert.True(failed is not null, $"CHECK passed without the element:\n{broken.Describe()}");
        Assert.Equal("fwmark", failed.Plugin);
        Assert.NotEqual(0, failed.ExitCode);
        var error = failed.Json;
        Assert.True(error is not null, $"no CNI error JSON on stdout:\n{failed.Describe()}");
        Assert.Equal(network.Chain.CniVersion, error["cniVersion"]?.GetValue<string>());
        Assert.True(failed.ErrorCode is > 0, failed.Describe());
        Assert.False(string.IsNullOrWhiteSpace(error["msg"]?.GetValue<string>()), failed.Describe());
    }

    [Fact]
    public void Gc_removes_only_stale_attachments_of_its_own_network()
    {
        using var bed = PluginBed.Create();
        var netA = bed.Network(FwmarkPluginConfig.VpnForEveryone(), "gc-a");
        var netB = bed.Network(FwmarkPluginConfig.VpnForEveryone(), "gc-b");
        var kept = netA.AddPod("a1");
        var stale = netA.AddPod("a2");
        var otherNetwork = netB.AddPod("b1");

        var gc = FwmarkOnly(bed, netA).RunGc([(kept.ContainerId, "eth0")]);

        AssertOk(gc);
        AssertGone(bed, stale);
        AssertOwned(bed, kept, netA.Name);
        AssertOwned(bed, otherNetwork, netB.Name);
    }

    /// <summary>
    /// The fwmark part of a network's chain at CNI 1.1.0 (GC needs it). Debian's bridge 1.1.1 stops at 1.0.0,
    /// so the pods were added at 1.0.0 and GC is sent only to the plugin that implements it.
    /// </summary>
    private static CniChain FwmarkOnly(PluginBed bed, PodNetwork network)
    {
        var fwmark = network.Chain.Plugins.Single(p => p["type"]?.GetValue<string>() == "fwmark").DeepClone();
        var conflist = new JsonObject { ["cniVersion"] = "1.1.0", ["name"] = network.Name, ["plugins"] = new JsonArray(fwmark) };
        return new CniChain(bed.Node, conflist.ToJsonString(), [bed.BinDir]);
    }

    private static void AssertOk(CniChainResult result) => Assert.True(result.Succeeded, result.Describe());

    /// <summary>The pod's host veth is still a marked bridge port, owned by that pod (and none of its addresses is keyed).</summary>
    private static void AssertOwned(PluginBed bed, Pod pod, string network)
    {
        var port = Assert.Single(PluginBed.InterfaceElementsOf(bed.Node, pod));
        Assert.Equal(PluginBed.HostVeth(pod), port.Name);
        Assert.Contains($"{network}/{pod.ContainerId}/eth0", port.Comment);
        Assert.Empty(PluginBed.ElementsOf(bed.Node, pod));
    }

    /// <summary>Nothing of the pod is left: no interface element of its own, no element for its addresses.</summary>
    private static void AssertGone(PluginBed bed, Pod pod)
    {
        Assert.Empty(PluginBed.InterfaceElementsOf(bed.Node, pod));
        Assert.Empty(PluginBed.ElementsOf(bed.Node, pod));
    }
}
