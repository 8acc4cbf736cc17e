using Fwmark.Core;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>Our table edited behind the plugin's back, or by another fwmark build (second review's findings).</summary>
public class TamperedTableTests : KernelTestBase
{
    [Fact]
    public void Check_reports_a_lookup_copied_in_front_of_the_reply_return()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        // Same comment, same expressions: only the position is wrong, and it would mark inbound replies.
        Node.Nft("insert", "rule", "inet", "fwmark", "prerouting",
            "ip", "saddr", "@pods4-mark-00000010-00000010", "goto", "mark-00000010-00000010",
            "comment", "\"IPv4 pods of mark-00000010-00000010\"");

        Assert.Contains("rules of chain prerouting are duplicated or out of order", Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void Install_refuses_to_rewrite_a_table_holding_sets_it_did_not_make()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Node.Nft("add", "set", "inet", "fwmark", "pods4-mark-00000010-00000010-v2", "{ type ipv4_addr; }");
        var before = Node.Ruleset();

        var e = Assert.Throws<DataplaneException>(() => Dataplane.Install(PodB, [Ip("10.88.0.6")], Gw2));

        Assert.Equal(DataplaneFailure.Conflict, e.Kind);
        Assert.Contains("holds set(s) pods4-mark-00000010-00000010-v2 that this fwmark version did not make", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Node.Ruleset());
    }

    [Fact]
    public void Install_of_one_mark_repairs_another_marks_restore_chain()
    {
        var vpn = Vpn with { Connmark = true };
        Dataplane.Install(PodA, [Ip("10.88.0.5")], vpn);
        Node.Nft("flush", "chain", "inet", "fwmark", "connmark-00000010-00000010");
        Assert.NotEmpty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], vpn));

        Dataplane.Install(PodB, [Ip("10.88.0.6")], Gw2);

        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], vpn));
    }
}
