using Fwmark.Runtimes.Tests.Infrastructure;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.Runtimes.Tests.Podman;

/// <summary>
/// What the README tells a podman 5 user on netavark: the plugin cannot help there (no CNI chain), but a
/// subnet rule plus <c>fwmark reconcile</c> steers the whole network. Proven here so the advice stays true.
/// </summary>
public sealed class PodmanNetavarkTests(NetavarkNode node) : IClassFixture<NetavarkNode>
{
    [Fact]
    public void Podman_netavark_runs_no_CNI_chain_and_the_documented_subnet_rule_with_reconcile_steers_the_network()
    {
        Assert.Equal("netavark", node.Podman("info", "--format", "{{.Host.NetworkBackend}}").EnsureSuccess().Stdout.Trim());
        var reconcile = node.Reconcile();
        Assert.True(reconcile.Succeeded, reconcile.Describe() + "\n" + IpRoutingOracle.Describe(node.Bed.Node, PodmanNode.Table));

        var steered = node.Run("steered", NetavarkNode.Steered);
        var other = node.Run("other", NetavarkNode.Unsteered);
        try
        {
            foreach (var family in Egress.Families)
            {
                Egress.AssertPath(node.Bed, steered.ToString(), steered.Netns, family, EgressPath.Vpn, "subnet rule + reconcile");
                Egress.AssertPath(node.Bed, other.ToString(), other.Netns, family, EgressPath.Main);
            }

            // The plugin sits in the CNI bin dir, but netavark never executed it: no table of its own exists.
            Assert.Equal("", NftOracle.TableText(node.Bed.Node));
        }
        finally
        {
            node.Remove(steered);
            node.Remove(other);
        }
    }
}
