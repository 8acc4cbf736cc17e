using System.Net.Sockets;
using Fwmark.Runtimes.Tests.Infrastructure;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.Runtimes.Tests.Podman;

/// <summary>
/// The "whole network" case with podman 4's CNI backend, as a user sets it up: a network whose conflist gets
/// <c>ipMasq: false</c> and fwmark with <c>defaultMark</c>, so every container on it leaves through a separate
/// gateway with its own address. One podman node for the class; each test removes its containers again.
/// </summary>
public sealed class PodmanNetworkTests(PodmanNode node) : IClassFixture<PodmanNode>
{
    [Fact]
    public void Podman_every_container_on_the_mustredirect_network_reaches_the_far_end_via_its_gateway_with_its_own_address()
    {
        var first = node.Run("redir-1", PodmanNode.Redirect);
        var second = node.Run("redir-2", PodmanNode.Redirect);
        var other = node.Run("other-1", PodmanNode.Plain);
        try
        {
            var redirected = new[] { first, second };
            foreach (var ip in redirected.SelectMany(c => c.Addresses))
            {
                node.Bed.Vpn.Watch(ip);
                node.Bed.Main.Watch(ip);
            }

            foreach (var family in Egress.Families)
            {
                foreach (var container in redirected)
                {
                    Egress.AssertPath(node.Bed, container.ToString(), container.Netns, family, EgressPath.Vpn);
                }

                Egress.AssertPath(node.Bed, other.ToString(), other.Netns, family, EgressPath.Main);
            }

            // No masquerade on the node: the gateway saw each container's own address, the main gateway nothing.
            foreach (var ip in redirected.SelectMany(c => c.Addresses))
            {
                Assert.True(node.Bed.Vpn.PacketsFrom(ip) > 0, $"the VPN gateway saw no packet from {ip}\n{Egress.Diagnostics(node.Bed.Node)}");
                Assert.Equal(0, node.Bed.Main.PacketsFrom(ip));
            }

            Assert.Empty(ElementsOf(other));
        }
        finally
        {
            node.Remove(first);
            node.Remove(second);
            node.Remove(other);
        }
    }

    [Fact]
    public void Podman_stop_start_and_rm_keep_the_elements_in_step_with_the_container()
    {
        var container = node.Run("cycle", PodmanNode.Redirect);
        var bystander = node.Run("bystander", PodmanNode.Redirect);
        try
        {
            var bystanderElements = ElementsOf(bystander);
            Assert.Single(BridgePortsOf(container));
            Assert.True(RunRecords.Has(node.Bed, container.Id), $"no record of {container.Name} in the run's state directory {node.Bed.StateDir}");

            node.Podman("stop", "-t", "0", container.Name).EnsureSuccess();
            Assert.Empty(ElementsOf(container));
            Assert.False(RunRecords.Has(node.Bed, container.Id));
            Assert.DoesNotContain(AllElements(), e => e.Comment?.Contains(container.Id, StringComparison.Ordinal) == true);
            Assert.Equal(bystanderElements, ElementsOf(bystander));

            // podman start runs ADD again from its stored network config (host-local may hand out new addresses).
            node.Podman("start", container.Name).EnsureSuccess();
            var restarted = node.Inspect(container.Name, PodmanNode.Redirect);
            Assert.Single(BridgePortsOf(restarted));
            Assert.Single(AllElements(), e => e.Comment?.Contains(container.Id, StringComparison.Ordinal) == true);
            foreach (var family in Egress.Families)
            {
                Egress.AssertPath(node.Bed, restarted.ToString(), restarted.Netns, family, EgressPath.Vpn, "after stop and start");
            }

            node.Remove(restarted);
            Assert.DoesNotContain(AllElements(), e => e.Comment?.Contains(container.Id, StringComparison.Ordinal) == true);
            Assert.Equal(bystanderElements, ElementsOf(bystander));
            Egress.AssertPath(node.Bed, bystander.ToString(), bystander.Netns, AddressFamily.InterNetwork, EgressPath.Vpn, "after the other container's rm");
        }
        finally
        {
            node.Remove(container);
            node.Remove(bystander);
        }
    }

    [Fact]
    public void Podman_CNI_ARGS_FWMARK_NAME_selects_the_mark_on_a_network_without_defaultMark()
    {
        var chosen = node.Run("chosen", PodmanNode.Select, callerCniArgs: $"FWMARK_NAME={PodmanNode.MarkName}");
        var unchosen = node.Run("unchosen", PodmanNode.Select);
        try
        {
            foreach (var family in Egress.Families)
            {
                Egress.AssertPath(node.Bed, chosen.ToString(), chosen.Netns, family, EgressPath.Vpn);
                Egress.AssertPath(node.Bed, unchosen.ToString(), unchosen.Netns, family, EgressPath.Main);
            }

            Assert.Empty(ElementsOf(unchosen));

            // podman does not keep the caller's CNI_ARGS: a later `podman start` runs ADD without them, so the
            // container is not marked any more. This is why the README points restartable setups at defaultMark.
            node.Podman("stop", "-t", "0", chosen.Name).EnsureSuccess();
            node.Podman("start", chosen.Name).EnsureSuccess();
            var restarted = node.Inspect(chosen.Name, PodmanNode.Select);
            Assert.Empty(ElementsOf(restarted));
            Egress.AssertPath(node.Bed, restarted.ToString(), restarted.Netns, AddressFamily.InterNetwork, EgressPath.Main, "after podman start without CNI_ARGS");
        }
        finally
        {
            node.Remove(chosen);
            node.Remove(unchosen);
        }
    }

    [Fact]
    public void Podman_run_with_an_unknown_FWMARK_NAME_fails_with_the_plugin_message_and_leaves_no_element()
    {
        var before = NftOracle.TableText(node.Bed.Node);

        var run = node.Podman(["run", "-d", "--name", "typo", "--network", PodmanNode.Select, PodmanNode.Image, "sleep", "3600"], callerCniArgs: "FWMARK_NAME=gw2");

        try
        {
            Assert.False(run.Succeeded, $"podman run with an unknown mark name succeeded\n{run.Describe()}");
            Assert.Contains("unknown mark name \"gw2\" from CNI_ARGS FWMARK_NAME", run.Stderr);
            // podman follows the failed ADD with a DEL of the whole chain without prevResult: it must succeed
            // quietly and the plugin's table must be as before.
            Assert.Equal(before, NftOracle.TableText(node.Bed.Node));
        }
        finally
        {
            node.Podman("rm", "-f", "-i", "-t", "0", "typo").EnsureSuccess();
        }
    }

    private IReadOnlyList<PodKey> AllElements() => NftOracle.Keys(node.Bed.Node);

    /// <summary>
    /// The keys owned by <paramref name="container"/> (its ID is in the owner tag) in either table, plus any address
    /// element for one of its addresses (owned by anyone: a stale key of a reused IP marks it too). Under the
    /// bridge CNI that is one bridge port.
    /// </summary>
    private IReadOnlyList<PodKey> ElementsOf(PodmanContainer container)
    {
        var addresses = container.Addresses.Select(a => a.ToString()).ToHashSet(StringComparer.Ordinal);
        return [.. NftOracle.Keys(node.Bed.Node).Where(k => k.Comment?.Contains(container.Id, StringComparison.Ordinal) == true || (k.Family == "inet" && addresses.Contains(k.Key)))];
    }

    /// <summary>The pod's keys, each checked to be a bridge port (the bridge CNI's pods are keyed by their host veth).</summary>
    private IReadOnlyList<PodKey> BridgePortsOf(PodmanContainer container)
    {
        var keys = ElementsOf(container);
        Assert.All(keys, k => Assert.True(k.IsBridgePort, $"expected a bridge-port key, got {k}"));
        return keys;
    }
}
