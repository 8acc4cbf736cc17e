using System.Net.Sockets;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>
/// <c>fwmark reconcile --conf-dir DIR</c> (a VPN up-hook, a systemd unit): makes the node match the routes of
/// the conflists in DIR without any CNI call, is quiet and harmless when run again, and explains what it cannot do.
/// </summary>
public sealed class ReconcileTests
{
    [Fact]
    public void Reconcile_makes_the_routing_of_the_conf_dir_without_any_add_then_stays_quiet_and_repairs_a_deleted_rule()
    {
        using var bed = RoutedBed.Create();
        // A conflist without fwmark next to ours must not bother it.
        bed.ConfDir.Write("05-other.conflist", """{"cniVersion": "1.0.0", "name": "other", "plugins": [{"type": "bridge", "bridge": "x"}]}""");
        foreach (var family in ExpectedRouting.Families)
        {
            Assert.Empty(ExpectedRouting.OurRules(bed.Node, family));
        }

        var first = bed.Reconcile();
        Assert.True(first.Succeeded, $"first reconcile\n{first.Describe()}\n{bed.Diagnostics()}");
        ExpectedRouting.AssertInstalled(bed.Node, RoutedBed.DocumentedDefaultPriority, RoutedBed.Table, bed.Bed.NodeVpnLink, "after the first reconcile");
        var state = Snapshot(bed);

        for (var run = 2; run <= 3; run++)
        {
            var again = bed.Reconcile();
            Assert.True(again.ExitCode == 0 && !again.TimedOut, $"reconcile #{run} with nothing to do\n{again.Describe()}");
            Assert.True(again.Stdout.Length == 0, $"reconcile #{run} with nothing to do printed on stdout\n{again.Describe()}");
            Assert.Equal(state, Snapshot(bed));
        }

        // Reconcile's rules really steer: a pod added afterwards leaves through the VPN, with the same objects.
        var pod = bed.AddMarked("after");
        bed.AssertPath(pod, AddressFamily.InterNetwork, EgressPath.Vpn, "pod added after reconcile");
        Assert.Equal(state, Snapshot(bed));

        bed.Node.Ip("-6", "rule", "del", "pref", $"{RoutedBed.DocumentedDefaultPriority + 1}");
        var repair = bed.Reconcile();
        Assert.True(repair.Succeeded, $"reconcile after ip -6 rule del\n{repair.Describe()}\n{bed.Diagnostics()}");
        Assert.Equal(state, Snapshot(bed));
        bed.AssertPath(pod, AddressFamily.InterNetworkV6, EgressPath.Vpn, "after the repairing reconcile");
    }

    [Theory]
    [InlineData("invalid fwmark config")]
    [InlineData("not JSON")]
    public void Reconcile_fails_and_names_a_conflist_it_cannot_use(string kind)
    {
        var (content, explanation) = kind switch
        {
            // A fwmark config the plugin refuses (main table), next to the good conflist: the problem is named.
            "invalid fwmark config" => ("""{"cniVersion": "1.0.0", "name": "broken", "plugins": [{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 254}}}}]}""", "table"),
            // Cut short: reconcile cannot know whether it held a route.
            _ => ("""{"cniVersion": "1.0.0", "name": "cut""", (string?)null),
        };

        using var bed = RoutedBed.Create();
        var broken = bed.ConfDir.Write("20-broken.conflist", content);

        var result = bed.Reconcile();

        Assert.True(result.ExitCode != 0 && !result.TimedOut, $"reconcile accepted {content}\n{result.Describe()}");
        var output = result.Stdout + result.Stderr;
        Assert.True(output.Contains(Path.GetFileName(broken), StringComparison.Ordinal), $"the message does not name {broken}\n{result.Describe()}");
        if (explanation is not null)
        {
            Assert.Contains(explanation, output);
        }
    }

    [Fact]
    public void Reconcile_fails_and_names_a_conf_dir_that_does_not_exist()
    {
        using var bed = RoutedBed.Create();
        var missing = Path.Combine(bed.Bed.WorkDir, "no-such-dir");

        var result = FwmarkCli.Reconcile(bed.Node, bed.FwmarkBinary, missing);

        Assert.True(result.ExitCode != 0 && !result.TimedOut, $"reconcile accepted a missing conf dir\n{result.Describe()}");
        Assert.Contains(missing, result.Stdout + result.Stderr);
    }

    /// <summary>Rules and table T of both families, as iproute2 prints them.</summary>
    private static string Snapshot(RoutedBed bed) => IpRoutingOracle.Describe(bed.Node, RoutedBed.Table);
}
