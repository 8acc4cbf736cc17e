using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Agent;

/// <summary>What someone does to the plugin's nftables table while a marked pod is sending.</summary>
public enum TableFault
{
    /// <summary><c>nft flush ruleset</c> (what `systemctl restart nftables` and many firewall reloads do).</summary>
    FlushRuleset,

    /// <summary><c>nft delete table inet fwmark</c>.</summary>
    DeleteTable,

    /// <summary><c>nft add table inet fwmark { flags dormant; }</c>: the table stays but none of its chains run.</summary>
    Dormant,

    /// <summary>The mark chain's rule replaced by one that clears the mark.</summary>
    MarkRuleRewritten,

    /// <summary><c>nft delete table bridge fwmark</c>: the table that marks bridge-port (interface-keyed) pods.</summary>
    DeleteBridgeTable,

    /// <summary><c>nft add table bridge fwmark { flags dormant; }</c>.</summary>
    BridgeDormant,

    /// <summary>The bridge table's mark rule replaced by one that clears the mark.</summary>
    BridgeMarkRuleRewritten,
}

/// <summary>
/// The leak harness: a marked pod (a bridge port, so keyed by its host veth in `bridge fwmark`) sends about 1000 UDP datagrams per second, both gateways count them. With the
/// published <c>fwmark agent</c> running, not one of them reaches the main gateway whatever is done to the
/// plugin's table (the agent's owned guard table keeps marking), the stream keeps flowing through the VPN, and
/// the agent puts the plugin's table back by itself. Without the agent the same flush leaks (the harness can
/// see a leak). Routing faults (deleted ip rules, a foreign default route in the mark's table) cannot be
/// guarded in nftables: there the leak is bounded by the agent's reaction, and the test says how many leaked.
/// </summary>
public sealed class AgentLeakTests(ITestOutputHelper output)
{
    /// <summary>The documented bound (docs/agent.md) for routing faults: the packets of 250 ms of stream.</summary>
    private const long RoutingLeakBound = 250;

    [Theory]
    [InlineData(TableFault.FlushRuleset)]
    [InlineData(TableFault.DeleteTable)]
    [InlineData(TableFault.Dormant)]
    [InlineData(TableFault.MarkRuleRewritten)]
    [InlineData(TableFault.DeleteBridgeTable)]
    [InlineData(TableFault.BridgeDormant)]
    [InlineData(TableFault.BridgeMarkRuleRewritten)]
    public void No_packet_of_a_marked_pod_leaks_while_the_agent_runs(TableFault fault)
    {
        using var bed = AgentBed.Create();
        Assert.Equal(0, bed.AtMain);

        Break(bed, fault);
        var restored = AgentBed.WaitUntil(bed.PluginTableWhole, TimeSpan.FromSeconds(2), () => $"the agent did not restore the plugin's table after {fault}\n{bed.Diagnostics()}");
        bed.WaitForVpnPackets(300, TimeSpan.FromSeconds(3), $"after {fault}");

        var leaked = bed.AtMain;
        output.WriteLine($"{fault}: table restored after {restored.TotalMilliseconds:0} ms (polled), {leaked} packets at main, stream sent {bed.Stream.Sent}");
        Assert.True(leaked == 0, $"{leaked} packets of the marked pod left through the main gateway after {fault}\n{bed.Diagnostics()}");
    }

    /// <summary>The control: without the agent, the harness does see the flush leak.</summary>
    [Fact]
    public void Without_the_agent_a_flush_leaks_and_the_harness_counts_it()
    {
        using var bed = AgentBed.Create(withAgent: false);
        Break(bed, TableFault.FlushRuleset);
        AgentBed.WaitUntil(() => bed.AtMain >= 100, TimeSpan.FromSeconds(3), () => $"no leak was counted after a flush without the agent\n{bed.Diagnostics()}");
    }

    [Theory]
    [InlineData("ip rules deleted")]
    [InlineData("foreign default route in the mark's table")]
    public void A_routing_fault_leaks_at_most_for_the_agents_reaction(string fault)
    {
        using var bed = AgentBed.Create();
        var node = bed.Routed.Node;
        var priority = bed.Routed.Priority;
        if (fault == "ip rules deleted")
        {
            foreach (var family in new[] { "-4", "-6" })
            {
                node.Ip(family, "rule", "del", "pref", $"{priority + 1}");
                node.Ip(family, "rule", "del", "pref", $"{priority}");
            }
        }
        else
        {
            // Another program's default route, toward the main gateway, in place of fwmark's.
            node.Ip("route", "replace", "default", "via", Addresses.MainGwInnerV4.ToString(), "dev", bed.Routed.Bed.NodeMainLink, "table", $"{RoutedBed.Table}");
        }

        var sentAtFault = bed.Stream.Sent;
        bed.WaitForVpnPackets(100, TimeSpan.FromSeconds(3), $"after {fault}");
        var leaked = bed.AtMain;
        Thread.Sleep(300);
        var later = bed.AtMain;
        output.WriteLine($"{fault}: {leaked} packets leaked through the main gateway (stream sent {bed.Stream.Sent - sentAtFault} since the fault)");
        Assert.True(later == leaked, $"the leak did not stop after the agent's repair: {leaked}, then {later}\n{bed.Diagnostics()}");
        Assert.True(leaked <= RoutingLeakBound, $"{leaked} packets leaked after {fault}, more than the bound {RoutingLeakBound}\n{bed.Diagnostics()}");
        ExpectedRouting.AssertInstalled(node, priority, RoutedBed.Table, bed.Routed.Bed.NodeVpnLink, $"after {fault} and the agent's repair");
    }

    private static void Break(AgentBed bed, TableFault fault)
    {
        var node = bed.Routed.Node;
        switch (fault)
        {
            case TableFault.FlushRuleset:
                node.Run("nft", "flush", "ruleset");
                break;
            case TableFault.DeleteTable:
                node.Run("nft", "delete", "table", "inet", "fwmark");
                break;
            case TableFault.Dormant:
                node.Nft("add table inet fwmark { flags dormant; }\n");
                break;
            case TableFault.MarkRuleRewritten:
                RewriteMarkRule(node, "inet");
                break;
            case TableFault.DeleteBridgeTable:
                node.Run("nft", "delete", "table", "bridge", "fwmark");
                break;
            case TableFault.BridgeDormant:
                node.Nft("add table bridge fwmark { flags dormant; }\n");
                break;
            case TableFault.BridgeMarkRuleRewritten:
                RewriteMarkRule(node, "bridge");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    private static void RewriteMarkRule(Fwmark.Testbed.Namespaces.Netns node, string family)
    {
        var chain = "mark-00000010-00000010";
        var listing = node.Run("nft", "-a", "list", "chain", family, "fwmark", chain).Stdout;
        var handle = System.Text.RegularExpressions.Regex.Match(listing, @"meta mark set .* # handle (\d+)").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(handle), $"no mark rule in chain {family} {chain}:\n{listing}");
        node.Run("nft", "replace", "rule", family, "fwmark", chain, "handle", handle, "meta", "mark", "set", "0x0");
    }
}
