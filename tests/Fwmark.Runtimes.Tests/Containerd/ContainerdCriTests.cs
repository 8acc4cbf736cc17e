using System.Net.Sockets;
using Fwmark.Cri;
using Fwmark.Runtimes.Tests.Infrastructure;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.Runtimes.Tests.Containerd;

/// <summary>
/// The Kubernetes path: containerd 1.6's CRI plugin runs the conflist (bridge, host-local, portmap, fwmark) for
/// pods this class creates through CRI, as kubelet would. One containerd for the class; each test removes its
/// pods again (in <c>finally</c>) so the next starts from a node without pods.
/// </summary>
public sealed class ContainerdCriTests(ContainerdNode node) : IClassFixture<ContainerdNode>
{
    [Fact]
    public void Containerd_annotated_pod_leaves_through_the_vpn_and_a_plain_pod_through_main_on_both_families()
    {
        var annotated = node.RunPod("vpn-pod", markAnnotation: "vpn");
        var plain = node.RunPod("plain-pod");
        try
        {
            foreach (var ip in annotated.Addresses)
            {
                node.Bed.Main.Watch(ip);
            }

            foreach (var family in Egress.Families)
            {
                Egress.AssertPath(node.Bed, annotated.ToString(), annotated.Netns, family, EgressPath.Vpn);
                Egress.AssertPath(node.Bed, plain.ToString(), plain.Netns, family, EgressPath.Main);
            }

            Assert.All(annotated.Addresses, ip => Assert.Equal(0, node.Bed.Main.PacketsFrom(ip)));
            Assert.Single(BridgePortsOf(annotated));
            Assert.Empty(ElementsOf(plain));
        }
        finally
        {
            node.Delete(annotated);
            node.Delete(plain);
        }
    }

    [Fact]
    public void Containerd_pod_in_a_namespace_listed_in_namespaces_is_marked_without_an_annotation()
    {
        var pod = node.RunPod("ns-pod", k8sNamespace: "secure");
        try
        {
            foreach (var family in Egress.Families)
            {
                Egress.AssertPath(node.Bed, pod.ToString(), pod.Netns, family, EgressPath.Vpn);
            }

            // The owner tag's readable tail names the network and the sandbox containerd created.
            Assert.All(ElementsOf(pod), e => Assert.Contains($"{ContainerdNode.NetworkName}/{pod.Id}/eth0", e.Comment));
        }
        finally
        {
            node.Delete(pod);
        }
    }

    [Fact]
    public void Containerd_unknown_mark_name_fails_RunPodSandbox_with_the_plugin_message_and_leaves_nothing_in_the_kernel()
    {
        var before = KernelState();

        var error = Assert.Throws<CriException>(() => node.RunPod("typo-pod", markAnnotation: "vnp"));

        // containerd wraps the CNI error into the CRI status: the user sees our message in `kubectl describe pod`.
        Assert.Contains("unknown mark name \"vnp\"", error.Detail);
        Assert.Contains("valid names: vpn", error.Detail);
        Console.WriteLine(error.Detail);
        // containerd ran DEL for the failed ADD: the address went back to the pool, the veth is gone, and neither
        // the plugin's table nor the node's policy routing kept anything.
        Assert.Equal(before, KernelState());
    }

    [Fact]
    public void Containerd_stop_and_remove_send_two_DELs_and_remove_only_that_pods_elements()
    {
        var leaving = node.RunPod("leaving", markAnnotation: "vpn");
        var staying = node.RunPod("staying", markAnnotation: "vpn");
        try
        {
            var stayingElements = ElementsOf(staying);
            Assert.Single(BridgePortsOf(leaving));
            Assert.True(RunRecords.Has(node.Bed, leaving.Id), $"no record of {leaving} in the run's state directory {node.Bed.StateDir}");

            // StopPodSandbox: DEL with the cached prevResult.
            node.Cri.StopPodSandbox(leaving.Id);
            Assert.Empty(ElementsOf(leaving));
            Assert.False(RunRecords.Has(node.Bed, leaving.Id));
            Assert.Equal(stayingElements, ElementsOf(staying));

            // RemovePodSandbox: containerd sends DEL once more, without prevResult; it must succeed and change nothing.
            node.Cri.RemovePodSandbox(leaving.Id);
            Assert.Empty(ElementsOf(leaving));
            Assert.DoesNotContain(NftOracle.Keys(node.Bed.Node), e => e.Comment?.Contains(leaving.Id, StringComparison.Ordinal) == true);
            Assert.Equal(stayingElements, ElementsOf(staying));
            foreach (var family in Egress.Families)
            {
                Egress.AssertPath(node.Bed, staying.ToString(), staying.Netns, family, EgressPath.Vpn, "after the other pod's teardown");
            }
        }
        finally
        {
            node.Delete(staying);
        }
    }

    [Fact]
    public void Containerd_restarted_while_pods_run_keeps_marking_and_the_later_teardown_is_clean()
    {
        var marked = node.RunPod("survivor", markAnnotation: "vpn");
        var plain = node.RunPod("survivor-plain");
        try
        {
            var elements = ElementsOf(marked);

            node.Restart();

            // The new containerd found its sandboxes again (from its own state) and never re-ran ADD or DEL.
            Assert.True(node.Cri.Status(marked.Id).Ready, $"containerd lost sandbox {marked.Id} across the restart");
            Assert.Equal(elements, ElementsOf(marked));
            foreach (var family in Egress.Families)
            {
                Egress.AssertPath(node.Bed, marked.ToString(), marked.Netns, family, EgressPath.Vpn, "after the restart");
                Egress.AssertPath(node.Bed, plain.ToString(), plain.Netns, family, EgressPath.Main, "after the restart");
            }

            node.Delete(marked);
            Assert.Empty(ElementsOf(marked));
            Assert.Empty(ElementsOf(plain));
            Assert.Empty(NftOracle.Keys(node.Bed.Node));
        }
        finally
        {
            node.Delete(marked);
            node.Delete(plain);
        }
    }

    [Fact]
    public void Containerd_vpn_device_gone_while_an_annotated_pod_runs_drops_its_traffic_never_via_main()
    {
        var pod = node.RunPod("cutoff", markAnnotation: "vpn");
        var plain = node.RunPod("cutoff-plain");
        try
        {
            foreach (var ip in pod.Addresses)
            {
                node.Bed.Main.Watch(ip);
            }

            Egress.AssertPath(node.Bed, pod.ToString(), pod.Netns, AddressFamily.InterNetwork, EgressPath.Vpn, "before the VPN went away");

            VpnUplink.Delete(node.Bed);
            try
            {
                foreach (var family in Egress.Families)
                {
                    Egress.AssertCutOff(node.Bed, pod.ToString(), pod.Netns, family, "VPN device deleted");
                    Egress.AssertPath(node.Bed, plain.ToString(), plain.Netns, family, EgressPath.Main, "VPN device deleted");
                }

                Assert.All(pod.Addresses, ip => Assert.Equal(0, node.Bed.Main.PacketsFrom(ip)));
            }
            finally
            {
                // The VPN client comes back and its up-hook runs reconcile (README): the other tests need the path.
                VpnUplink.Recreate(node.Bed);
                var reconcile = FwmarkCli.Reconcile(node.Bed.Node, node.FwmarkBinaryPath, node.ConfDir);
                Assert.True(reconcile.Succeeded, reconcile.Describe() + "\n" + IpRoutingOracle.Describe(node.Bed.Node, ContainerdNode.Table));
            }

            foreach (var family in Egress.Families)
            {
                Egress.AssertPath(node.Bed, pod.ToString(), pod.Netns, family, EgressPath.Vpn, "after the VPN came back and reconcile ran");
            }
        }
        finally
        {
            node.Delete(pod);
            node.Delete(plain);
        }
    }

    /// <summary>
    /// The keys owned by <paramref name="pod"/> (its ID is in the owner tag) in either table, plus any address
    /// element for one of its addresses (owned by anyone: a stale key of a reused IP marks it too). Under the
    /// bridge CNI that is one bridge port.
    /// </summary>
    private IReadOnlyList<PodKey> ElementsOf(CriPod pod)
    {
        var addresses = pod.Addresses.Select(a => a.ToString()).ToHashSet(StringComparer.Ordinal);
        return [.. NftOracle.Keys(node.Bed.Node).Where(k => k.Comment?.Contains(pod.Id, StringComparison.Ordinal) == true || (k.Family == "inet" && addresses.Contains(k.Key)))];
    }

    /// <summary>Everything a pod's ADD can leave on the node, as the kernel's own tools print it.</summary>
    private string KernelState()
    {
        var bridgePorts = node.Bed.Node.Exec("ip", "-o", "link", "show", "master", node.Bed.IfName("cb")).Stdout;
        return string.Join("\n",
            $"--- fwmark table:\n{NftOracle.TableText(node.Bed.Node)}",
            $"--- policy routing:\n{IpRoutingOracle.Describe(node.Bed.Node, ContainerdNode.Table)}",
            $"--- bridge ports:\n{string.Join('\n', bridgePorts.Split('\n').Select(l => l.Split(':').ElementAtOrDefault(1)?.Trim()))}",
            $"--- host-local reservations:\n{string.Join('\n', node.IpReservations())}");
    }

    /// <summary>The pod's keys, each checked to be a bridge port (the bridge CNI's pods are keyed by their host veth).</summary>
    private IReadOnlyList<PodKey> BridgePortsOf(CriPod pod)
    {
        var keys = ElementsOf(pod);
        Assert.All(keys, k => Assert.True(k.IsBridgePort, $"expected a bridge-port key, got {k}"));
        return keys;
    }
}
