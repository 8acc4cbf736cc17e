using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Agent;

/// <summary>
/// Recovery without operator action: with the agent running, the VPN device deleted and re-created, or set
/// down and up, and the marked pod's stream flows through it again within 1 s of its return, no reconcile
/// typed by anyone. While it is gone nothing leaks (the kill switch). And the agent's life cycle: SIGTERM ends
/// it with exit 0 and takes its guard table with it; a second agent in the same namespace refuses to start.
/// </summary>
public sealed class AgentRecoveryTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(VpnFault.UplinkDeleted)]
    [InlineData(VpnFault.UplinkDown)]
    public void Marked_traffic_flows_through_the_vpn_again_within_a_second_of_its_return(VpnFault fault)
    {
        using var bed = AgentBed.Create();
        if (fault == VpnFault.UplinkDeleted)
        {
            VpnUplink.Delete(bed.Routed.Bed);
        }
        else
        {
            VpnUplink.SetDown(bed.Routed.Bed);
        }

        Thread.Sleep(300);
        var duringOutage = bed.AtVpn;
        Thread.Sleep(200);
        Assert.True(bed.AtVpn == duringOutage, $"packets still reached the VPN gateway after {fault}\n{bed.Diagnostics()}");

        if (fault == VpnFault.UplinkDeleted)
        {
            VpnUplink.Recreate(bed.Routed.Bed);
        }
        else
        {
            VpnUplink.BringUp(bed.Routed.Bed);
        }

        // From the moment the VPN client is done (device, addresses, up) until the stream is counted at the VPN gateway.
        var recovered = bed.WaitForVpnPackets(1, TimeSpan.FromSeconds(5), $"after the VPN came back ({fault})");
        output.WriteLine($"{fault}: stream through the VPN again {recovered.TotalMilliseconds:0} ms after its return; {bed.AtMain} packets at main");
        Assert.True(recovered < RecoveryLimit, $"marked traffic took {recovered.TotalMilliseconds:0} ms to flow through the VPN again after {fault}\n{bed.Diagnostics()}");
        Assert.True(bed.AtMain == 0, $"{bed.AtMain} packets leaked to the main gateway during {fault}\n{bed.Diagnostics()}");
        ExpectedRouting.AssertInstalled(bed.Routed.Node, bed.Routed.Priority, RoutedBed.Table, bed.Routed.Bed.NodeVpnLink, $"after {fault} and the agent's repair");
    }

    [Fact]
    public void Sigterm_stops_the_agent_cleanly_and_its_guard_goes_with_it_and_a_second_agent_refuses()
    {
        using var bed = RoutedBed.Create();
        bed.AddMarked("term");
        using var agent = FwmarkAgent.Start(bed.Node, bed.FwmarkBinary, bed.ConfDir.Path);
        Assert.True(bed.Node.Exec("nft", "list", "table", "inet", "fwmark-guard").Succeeded, $"no guard table while the agent runs\n{agent.Output}");
        var deleteGuard = bed.Node.Exec("nft", "delete", "table", "inet", "fwmark-guard");
        Assert.False(deleteGuard.Succeeded, "the guard table could be deleted by another process");
        Assert.Contains("Operation not permitted", deleteGuard.Stderr);

        var second = FwmarkCli.Run(bed.Node, bed.FwmarkBinary, "agent", "--conf-dir", bed.ConfDir.Path);
        Assert.True(second.ExitCode == 1, $"a second agent in the same namespace did not refuse\n{second.Describe()}");
        Assert.Contains("another fwmark agent", second.Stderr);

        var exit = agent.Terminate(TimeSpan.FromSeconds(3));
        Assert.True(exit == 0, $"the agent did not exit 0 on SIGTERM within 3 s (exit {exit?.ToString() ?? "none"})\n{agent.Output}");
        Assert.Contains("stopped", agent.Output);
        Assert.False(bed.Node.Exec("nft", "list", "table", "inet", "fwmark-guard").Succeeded, "the guard table outlived its agent");
        Assert.True(bed.Node.Exec("nft", "list", "table", "inet", "fwmark").Succeeded, "the plugin's own table went with the agent");
    }
}
