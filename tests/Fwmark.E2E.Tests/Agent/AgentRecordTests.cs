using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;

namespace Fwmark.E2E.Tests.Agent;

/// <summary>
/// The agent restores from the attachment records too (docs/agent.md), not only from what it saw in the kernel:
/// a flush while no agent ran, or one element deleted by hand, is put back without any CNI call.
/// </summary>
public sealed class AgentRecordTests(ITestOutputHelper output)
{
    [Fact]
    public void An_agent_started_after_a_flush_restores_the_recorded_attachment_and_its_traffic_takes_the_vpn_again()
    {
        using var bed = AgentBed.Create(withAgent: false);
        bed.Routed.Node.Run("nft", "flush", "ruleset");
        AgentBed.WaitUntil(() => bed.AtMain >= 50, TimeSpan.FromSeconds(3), () => $"the flush did not make the pod leak (no agent yet)\n{bed.Diagnostics()}");

        using var agent = FwmarkAgent.Start(bed.Routed.Node, bed.Routed.FwmarkBinary, bed.Routed.ConfDir.Path);
        var restored = AgentBed.WaitUntil(bed.PluginTableWhole, TimeSpan.FromSeconds(3), () => $"the agent did not restore the recorded attachment\n{agent.Output}\n{bed.Diagnostics()}");
        var atMain = bed.AtMain;
        bed.WaitForVpnPackets(200, TimeSpan.FromSeconds(3), "after the agent started");

        output.WriteLine($"recorded attachment restored {restored.TotalMilliseconds:0} ms after the agent started");
        Assert.Equal(atMain, bed.AtMain);
        Assert.Contains("element(s) were missing", agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_element_deleted_by_hand_comes_back_from_the_record_at_the_next_full_repair()
    {
        // A short backstop interval, so the test does not wait 30 s for the full repair.
        using var bed = AgentBed.Create(withAgent: false);
        using var agent = FwmarkAgent.Start(bed.Routed.Node, bed.Routed.FwmarkBinary, bed.Routed.ConfDir.Path, "--interval", "1");
        // The bed's pod is a bridge port: its one key is its host veth's name in table bridge fwmark.
        var key = Assert.Single(NftOracle.Keys(bed.Routed.Node));
        Assert.True(key.IsBridgePort, $"the bed's pod is not keyed by its bridge port: {key}");
        bed.Routed.Node.Run("nft", "delete", "element", key.Family, "fwmark", key.Set, $"{{ \"{key.Key}\" }}");

        var restored = AgentBed.WaitUntil(() => NftOracle.Keys(bed.Routed.Node).Count == 1, TimeSpan.FromSeconds(4), () => $"the hand-deleted element did not come back\n{agent.Output}\n{bed.Diagnostics()}");
        bed.WaitForVpnPackets(200, TimeSpan.FromSeconds(3), "after the element came back");

        output.WriteLine($"hand-deleted element back after {restored.TotalMilliseconds:0} ms");
        Assert.Equal(key, Assert.Single(NftOracle.Keys(bed.Routed.Node)));
    }
}
