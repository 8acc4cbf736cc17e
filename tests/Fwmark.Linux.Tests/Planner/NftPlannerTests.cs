using System.Net;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Planner;

/// <summary>
/// Golden tests of every decision NftDataplane makes: the planned transaction, rendered as nft script,
/// against the text it must be. No kernel and no root; the kernel suites (Fwmark.Linux.Kernel.Tests)
/// prove the kernel accepts these transactions and that they have the intended effect.
/// </summary>
public class NftPlannerTests
{
    private static readonly MarkSpec Vpn = new("vpn", 0x10, 0x10);
    private static readonly MarkSpec Gw2 = new("gw2", 0x888, 0xfff);
    private static readonly AttachmentOwner PodA = new("net1", "container-a", "eth0");
    private static readonly AttachmentOwner PodB = new("net1", "container-b", "eth0");
    private static readonly AttachmentOwner OtherNetwork = new("net2", "container-c", "eth0");

    private const string VpnRules = """
        add rule inet fwmark mark-00000010-00000010 meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "set mark 0x00000010 under mask 0x00000010"

        """;

    private const string PreroutingVpn = """
        add rule inet fwmark prerouting ct direction reply return comment "replies of connections opened to the pod keep the main path"
        add rule inet fwmark prerouting ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv4 pods of mark-00000010-00000010"
        add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv6 pods of mark-00000010-00000010"

        """;

    [Fact]
    public void Install_of_the_first_pod_builds_the_whole_table_then_adds_its_elements()
    {
        var plan = NftPlanner.Install(new FakeNftState(), PodA, Ips("10.88.0.5", "2001:db8::5", "10.88.0.5"), Vpn);

        AssertPlan(
            $$"""
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            {{VpnRules}}{{PreroutingVpn}}add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 comment "{{PodA.Tag}}" }
            add element inet fwmark pods6-mark-00000010-00000010 { 2001:db8::5 comment "{{PodA.Tag}}" }

            """,
            plan);
    }

    [Fact]
    public void Install_with_connmark_adds_the_save_rule_and_the_restore_chain()
    {
        var plan = NftPlanner.Install(new FakeNftState(), PodA, Ips("10.88.0.5"), Vpn with { Connmark = true });

        AssertPlan(
            $$"""
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010-connmark { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010-connmark { type ipv6_addr; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark mark-00000010-00000010-connmark
            add chain inet fwmark connmark-00000010-00000010 { type filter hook prerouting priority -150; policy accept; }
            add rule inet fwmark mark-00000010-00000010-connmark meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "set mark 0x00000010 under mask 0x00000010"
            add rule inet fwmark mark-00000010-00000010-connmark ct mark set ct mark & 0xffffffef | 0x00000010 comment "save mark 0x00000010 under mask 0x00000010 to conntrack"
            add rule inet fwmark connmark-00000010-00000010 ct direction reply ct mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "restore mark 0x00000010 under mask 0x00000010 on replies"
            add rule inet fwmark prerouting ct direction reply return comment "replies of connections opened to the pod keep the main path"
            add rule inet fwmark prerouting ip saddr @pods4-mark-00000010-00000010-connmark goto mark-00000010-00000010-connmark comment "IPv4 pods of mark-00000010-00000010-connmark"
            add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000010-00000010-connmark goto mark-00000010-00000010-connmark comment "IPv6 pods of mark-00000010-00000010-connmark"
            add element inet fwmark pods4-mark-00000010-00000010-connmark { 10.88.0.5 comment "{{PodA.Tag}}" }

            """,
            plan);
    }

    [Fact]
    public void Install_of_a_second_pod_on_a_healthy_table_only_adds_its_element()
    {
        var state = FakeNftState.Healthy(Vpn).WithElement(Vpn, "10.88.0.5", PodA.Tag);

        var plan = NftPlanner.Install(state, PodB, Ips("10.88.0.6"), Vpn);

        AssertPlan($$"""
            add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.6 comment "{{PodB.Tag}}" }

            """, plan);
        Assert.Equal(0, state.ElementDumps); // O(marks) lookups, never a dump of the sets
    }

    [Fact]
    public void Install_again_of_what_is_already_there_plans_nothing()
    {
        var state = FakeNftState.Healthy(Vpn).WithElement(Vpn, "10.88.0.5", PodA.Tag);

        Assert.True(NftPlanner.Install(state, PodA, Ips("10.88.0.5"), Vpn).IsEmpty);
    }

    [Fact]
    public void Install_of_a_new_mark_adds_its_sets_and_chain_and_rewrites_prerouting_only()
    {
        var state = FakeNftState.Healthy(Vpn).WithElement(Vpn, "10.88.0.5", PodA.Tag);

        var plan = NftPlanner.Install(state, PodB, Ips("10.88.0.6"), Gw2);

        // The healthy vpn chain keeps its rule (and counter); prerouting gains the gw2 lookups in name order.
        AssertPlan(
            $$"""
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add set inet fwmark pods4-mark-00000888-00000fff { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000888-00000fff { type ipv6_addr; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            add chain inet fwmark mark-00000888-00000fff
            add rule inet fwmark mark-00000888-00000fff meta mark set meta mark & 0xfffff000 | 0x00000888 counter comment "set mark 0x00000888 under mask 0x00000fff"
            flush chain inet fwmark prerouting
            {{PreroutingVpn}}add rule inet fwmark prerouting ip saddr @pods4-mark-00000888-00000fff goto mark-00000888-00000fff comment "IPv4 pods of mark-00000888-00000fff"
            add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000888-00000fff goto mark-00000888-00000fff comment "IPv6 pods of mark-00000888-00000fff"
            add element inet fwmark pods4-mark-00000888-00000fff { 10.88.0.6 comment "{{PodB.Tag}}" }

            """,
            plan);
    }

    [Fact]
    public void Install_of_a_reused_ip_takes_the_element_over_from_the_old_owner()
    {
        var state = FakeNftState.Healthy(Gw2, Vpn).WithElement(Vpn, "10.88.0.5", PodA.Tag).WithElement(Vpn, "2001:db8::5", PodA.Tag);

        var sameMark = NftPlanner.Install(state, PodB, Ips("10.88.0.5"), Vpn);
        var otherMark = NftPlanner.Install(state, PodB, Ips("2001:db8::5"), Gw2);

        AssertPlan($$"""
            delete element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 }
            add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 comment "{{PodB.Tag}}" }

            """, sameMark);
        AssertPlan($$"""
            delete element inet fwmark pods6-mark-00000010-00000010 { 2001:db8::5 }
            add element inet fwmark pods6-mark-00000888-00000fff { 2001:db8::5 comment "{{PodB.Tag}}" }

            """, otherMark);
    }

    [Fact]
    public void Install_refuses_a_table_holding_sets_this_build_did_not_name()
    {
        var state = FakeNftState.Healthy(Vpn);
        state.Sets["pods4-mark-00000010-00000010-v2"] = [];

        var e = Assert.Throws<DataplaneException>(() => NftPlanner.Install(state, PodB, Ips("10.88.0.6"), Gw2));

        Assert.Equal(DataplaneFailure.Conflict, e.Kind);
        Assert.Equal("failed to install mark gw2 for net1/container-b/eth0: table inet fwmark holds set(s) pods4-mark-00000010-00000010-v2 that this fwmark version did not make", e.Message);
    }

    [Fact]
    public void Install_repairs_a_tampered_mark_chain_and_leaves_healthy_chains_alone()
    {
        var state = FakeNftState.Healthy(Vpn, Gw2).WithElement(Vpn, "10.88.0.5", PodA.Tag);
        state.AddRules([new NftRule("mark-00000888-00000fff", [new Counter()], "counter", "intruder")]);

        var plan = NftPlanner.Install(state, PodA, Ips("10.88.0.5"), Vpn);

        // The other mark's chain is a goto target of prerouting: it is repaired too, in the same transaction.
        AssertPlan(
            """
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add set inet fwmark pods4-mark-00000888-00000fff { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000888-00000fff { type ipv6_addr; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            add chain inet fwmark mark-00000888-00000fff
            flush chain inet fwmark mark-00000888-00000fff
            add rule inet fwmark mark-00000888-00000fff meta mark set meta mark & 0xfffff000 | 0x00000888 counter comment "set mark 0x00000888 under mask 0x00000fff"

            """,
            plan);
    }

    [Fact]
    public void Install_rebuilds_a_prerouting_chain_whose_rules_are_out_of_order()
    {
        var state = FakeNftState.Healthy(Vpn);
        var reply = state.RuleList[0];
        state.RuleList.RemoveAt(0);
        state.RuleList.Insert(2, reply); // a lookup before "ct direction reply return" would mark inbound replies

        var plan = NftPlanner.Install(state, PodA, Ips("10.88.0.5"), Vpn);

        AssertPlan(
            $$"""
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            flush chain inet fwmark prerouting
            {{PreroutingVpn}}add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 comment "{{PodA.Tag}}" }

            """,
            plan);
    }

    [Fact]
    public void Install_on_sets_of_an_older_version_without_counters_remakes_them_with_their_elements_in_one_transaction()
    {
        var state = FakeNftState.Healthy(Vpn).WithElement(Vpn, "10.88.0.5", PodA.Tag).WithElement(Vpn, "2001:db8::5", PodA.Tag);
        state.SetsWithoutCounters.UnionWith(FwmarkRuleset.SetsOf(Vpn.ChainName).Select(s => s.Name));

        var plan = NftPlanner.Install(state, PodB, Ips("10.88.0.6"), Vpn);

        // prerouting is flushed first (its lookups refer to the sets), the sets are deleted, made again with
        // the counter template and their elements, and prerouting refilled: all one commit, so no packet of
        // PodA is ever looked up in a set without it.
        AssertPlan(
            $$"""
            flush chain inet fwmark prerouting
            delete set inet fwmark pods4-mark-00000010-00000010
            delete set inet fwmark pods6-mark-00000010-00000010
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 comment "{{PodA.Tag}}" }
            add element inet fwmark pods6-mark-00000010-00000010 { 2001:db8::5 comment "{{PodA.Tag}}" }
            {{PreroutingVpn}}add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.6 comment "{{PodB.Tag}}" }

            """,
            plan);
    }

    [Fact]
    public void Remove_by_address_deletes_only_the_owners_elements_without_dumping_sets()
    {
        var state = FakeNftState.Healthy(Vpn, Gw2)
            .WithElement(Vpn, "10.88.0.5", PodA.Tag)
            .WithElement(Gw2, "2001:db8::5", PodA.Tag)
            .WithElement(Vpn, "10.88.0.6", PodB.Tag); // PodA's old address, reused by PodB

        var plan = NftPlanner.Remove(state, PodA, Ips("10.88.0.5", "2001:db8::5", "10.88.0.6"));

        AssertPlan("""
            delete element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 }
            delete element inet fwmark pods6-mark-00000888-00000fff { 2001:db8::5 }

            """, plan);
        Assert.Equal(0, state.ElementDumps);
    }

    [Fact]
    public void Remove_without_addresses_scans_every_set_for_the_owners_tag()
    {
        var state = FakeNftState.Healthy(Vpn, Gw2)
            .WithElement(Vpn, "10.88.0.5", PodA.Tag)
            .WithElement(Vpn, "10.88.0.6", PodB.Tag)
            .WithElement(Vpn, "10.88.0.8", "added by hand")
            .WithElement(Vpn, "10.88.0.9", null)
            .WithElement(Gw2, "2001:db8::5", PodA.Tag);

        var plan = NftPlanner.Remove(state, PodA, null);

        AssertPlan("""
            delete element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 }
            delete element inet fwmark pods6-mark-00000888-00000fff { 2001:db8::5 }

            """, plan);
        Assert.Equal(4, state.ElementDumps);
    }

    [Fact]
    public void Remove_from_a_node_without_the_table_plans_nothing()
    {
        Assert.True(NftPlanner.Remove(new FakeNftState(), PodA, null).IsEmpty);
        Assert.True(NftPlanner.Remove(new FakeNftState(), PodA, Ips("10.88.0.5")).IsEmpty);
    }

    [Fact]
    public void Collect_deletes_the_networks_elements_whose_owner_is_not_valid()
    {
        var state = FakeNftState.Healthy(Vpn, Gw2)
            .WithElement(Vpn, "10.88.0.5", PodA.Tag)
            .WithElement(Vpn, "10.88.0.6", PodB.Tag)
            .WithElement(Gw2, "2001:db8::7", OtherNetwork.Tag)
            .WithElement(Vpn, "10.88.0.8", "added by hand")
            .WithElement(Gw2, "2001:db8::5", PodA.Tag);

        var plan = NftPlanner.Collect(state, "net1", [PodB]);

        AssertPlan("""
            delete element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 }
            delete element inet fwmark pods6-mark-00000888-00000fff { 2001:db8::5 }

            """, plan);
        Assert.True(NftPlanner.Collect(state, "net1", [PodA, PodB]).IsEmpty);
    }

    private static IPAddress[] Ips(params string[] text) => [.. text.Select(IPAddress.Parse)];

    private static void AssertPlan(string expected, NftTransaction plan) =>
        Assert.Equal(expected.ReplaceLineEndings("\n"), plan.Render());
}
