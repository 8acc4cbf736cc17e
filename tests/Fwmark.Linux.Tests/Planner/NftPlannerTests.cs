using System.Net;
using Fwmark.Core;
using Fwmark.Core.Paths;
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

    [Fact]
    public void Install_of_the_first_pod_builds_the_whole_table_then_adds_its_elements()
    {
        var plan = NftPlanner.Install(new FakeNftState(), PodA, Ips("10.88.0.5", "2001:db8::5", "10.88.0.5"), Vpn);

        AssertPlan(
            $$"""
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add set inet fwmark ifaces-mark-00000010-00000010 { type ifname; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark replies { type filter hook prerouting priority -151; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            add rule inet fwmark replies ct direction reply meta mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef counter comment "replies keep the main path: clear mark 0x00000010 under mask 0x00000010"
            add rule inet fwmark mark-00000010-00000010 meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "set mark 0x00000010 under mask 0x00000010"
            add rule inet fwmark prerouting ct direction reply return comment "replies of connections opened to the pod keep the main path"
            add rule inet fwmark prerouting iifname @ifaces-mark-00000010-00000010 goto mark-00000010-00000010 comment "routed pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv4 pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv6 pods of mark-00000010-00000010"
            add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 comment "{{PodA.Tag}}" }
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
            add set inet fwmark ifaces-mark-00000010-00000010-connmark { type ifname; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark replies { type filter hook prerouting priority -151; policy accept; }
            add chain inet fwmark mark-00000010-00000010-connmark
            add chain inet fwmark connmark-00000010-00000010 { type filter hook prerouting priority -150; policy accept; }
            add rule inet fwmark replies ct direction reply meta mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef counter comment "replies keep the main path: clear mark 0x00000010 under mask 0x00000010"
            add rule inet fwmark mark-00000010-00000010-connmark meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "set mark 0x00000010 under mask 0x00000010"
            add rule inet fwmark mark-00000010-00000010-connmark ct mark set ct mark & 0xffffffef | 0x00000010 comment "save mark 0x00000010 under mask 0x00000010 to conntrack"
            add rule inet fwmark connmark-00000010-00000010 ct direction reply ct mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "restore mark 0x00000010 under mask 0x00000010 on replies"
            add rule inet fwmark prerouting ct direction reply return comment "replies of connections opened to the pod keep the main path"
            add rule inet fwmark prerouting iifname @ifaces-mark-00000010-00000010-connmark goto mark-00000010-00000010-connmark comment "routed pods of mark-00000010-00000010-connmark"
            add rule inet fwmark prerouting ip saddr @pods4-mark-00000010-00000010-connmark goto mark-00000010-00000010-connmark comment "IPv4 pods of mark-00000010-00000010-connmark"
            add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000010-00000010-connmark goto mark-00000010-00000010-connmark comment "IPv6 pods of mark-00000010-00000010-connmark"
            add rule inet fwmark prerouting meta mark & 0x00000010 == 0x00000010 goto mark-00000010-00000010-connmark comment "bridged pods of mark-00000010-00000010-connmark: save to conntrack"
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
            add set inet fwmark ifaces-mark-00000010-00000010 { type ifname; counter; }
            add set inet fwmark pods4-mark-00000888-00000fff { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000888-00000fff { type ipv6_addr; counter; }
            add set inet fwmark ifaces-mark-00000888-00000fff { type ifname; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark replies { type filter hook prerouting priority -151; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            add chain inet fwmark mark-00000888-00000fff
            flush chain inet fwmark replies
            add rule inet fwmark replies ct direction reply meta mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef counter comment "replies keep the main path: clear mark 0x00000010 under mask 0x00000010"
            add rule inet fwmark replies ct direction reply meta mark & 0x00000fff == 0x00000888 meta mark set meta mark & 0xfffff000 counter comment "replies keep the main path: clear mark 0x00000888 under mask 0x00000fff"
            add rule inet fwmark mark-00000888-00000fff meta mark set meta mark & 0xfffff000 | 0x00000888 counter comment "set mark 0x00000888 under mask 0x00000fff"
            flush chain inet fwmark prerouting
            add rule inet fwmark prerouting ct direction reply return comment "replies of connections opened to the pod keep the main path"
            add rule inet fwmark prerouting iifname @ifaces-mark-00000010-00000010 goto mark-00000010-00000010 comment "routed pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv4 pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv6 pods of mark-00000010-00000010"
            add rule inet fwmark prerouting iifname @ifaces-mark-00000888-00000fff goto mark-00000888-00000fff comment "routed pods of mark-00000888-00000fff"
            add rule inet fwmark prerouting ip saddr @pods4-mark-00000888-00000fff goto mark-00000888-00000fff comment "IPv4 pods of mark-00000888-00000fff"
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
            $$"""
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add set inet fwmark ifaces-mark-00000010-00000010 { type ifname; counter; }
            add set inet fwmark pods4-mark-00000888-00000fff { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000888-00000fff { type ipv6_addr; counter; }
            add set inet fwmark ifaces-mark-00000888-00000fff { type ifname; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark replies { type filter hook prerouting priority -151; policy accept; }
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
            add set inet fwmark ifaces-mark-00000010-00000010 { type ifname; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark replies { type filter hook prerouting priority -151; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            flush chain inet fwmark prerouting
            add rule inet fwmark prerouting ct direction reply return comment "replies of connections opened to the pod keep the main path"
            add rule inet fwmark prerouting iifname @ifaces-mark-00000010-00000010 goto mark-00000010-00000010 comment "routed pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv4 pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv6 pods of mark-00000010-00000010"
            add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 comment "{{PodA.Tag}}" }

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
            add set inet fwmark ifaces-mark-00000010-00000010 { type ifname; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark replies { type filter hook prerouting priority -151; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 comment "{{PodA.Tag}}" }
            add element inet fwmark pods6-mark-00000010-00000010 { 2001:db8::5 comment "{{PodA.Tag}}" }
            add rule inet fwmark prerouting ct direction reply return comment "replies of connections opened to the pod keep the main path"
            add rule inet fwmark prerouting iifname @ifaces-mark-00000010-00000010 goto mark-00000010-00000010 comment "routed pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv4 pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv6 pods of mark-00000010-00000010"
            add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.6 comment "{{PodB.Tag}}" }

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
        Assert.Equal(6, state.ElementDumps); // per mark: its two address sets and its routed-interface set
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

    [Fact]
    public void Install_of_the_first_bridge_port_builds_both_tables_in_one_transaction()
    {
        var plan = NftPlanner.Install(new FakeNftState(), PodA, Port("veth1", "10.88.0.5"), Vpn);

        AssertPlan(
            $$"""
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add set inet fwmark ifaces-mark-00000010-00000010 { type ifname; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark replies { type filter hook prerouting priority -151; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            add rule inet fwmark replies ct direction reply meta mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef counter comment "replies keep the main path: clear mark 0x00000010 under mask 0x00000010"
            add rule inet fwmark mark-00000010-00000010 meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "set mark 0x00000010 under mask 0x00000010"
            add rule inet fwmark prerouting ct direction reply return comment "replies of connections opened to the pod keep the main path"
            add rule inet fwmark prerouting iifname @ifaces-mark-00000010-00000010 goto mark-00000010-00000010 comment "routed pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv4 pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv6 pods of mark-00000010-00000010"
            add table bridge fwmark
            add set bridge fwmark ports-mark-00000010-00000010 { type ifname; counter; }
            add chain bridge fwmark prerouting { type filter hook prerouting priority -200; policy accept; }
            add chain bridge fwmark mark-00000010-00000010
            add rule bridge fwmark mark-00000010-00000010 meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "set mark 0x00000010 under mask 0x00000010"
            add rule bridge fwmark prerouting iifname @ports-mark-00000010-00000010 goto mark-00000010-00000010 comment "bridged pods of mark-00000010-00000010"
            add element bridge fwmark ports-mark-00000010-00000010 { "veth1" comment "{{PodA.Tag}}" }

            """,
            plan);
    }

    [Fact]
    public void Install_of_a_reused_port_name_takes_it_from_the_old_owner()
    {
        var state = FakeNftState.Healthy(Vpn).WithName(InterfaceRuleset.BridgeTable, $"ports-{Vpn.ChainName}", "veth1", PodA.Tag);
        state.BridgeRuleList = [];
        state.AddBridgeRules(Vpn);

        var plan = NftPlanner.Install(state, PodB, Port("veth1", "10.88.0.6"), Vpn);

        AssertPlan(
            $$"""
            delete element bridge fwmark ports-mark-00000010-00000010 { "veth1" }
            add element bridge fwmark ports-mark-00000010-00000010 { "veth1" comment "{{PodB.Tag}}" }

            """,
            plan);
        Assert.Equal(0, state.ElementDumps);
    }

    [Fact]
    public void Remove_by_keys_looks_up_the_listed_interfaces_and_deletes_only_the_owners()
    {
        var state = FakeNftState.Healthy(Vpn, Gw2)
            .WithName(InterfaceRuleset.BridgeTable, $"ports-{Vpn.ChainName}", "veth1", PodA.Tag)
            .WithName(InterfaceRuleset.BridgeTable, $"ports-{Vpn.ChainName}", "veth2", PodB.Tag)
            .WithName(FwmarkRuleset.Table, $"ifaces-{Gw2.ChainName}", "cali1", PodA.Tag);
        state.BridgeRuleList = [];

        var plan = NftPlanner.RemoveKeys(state, PodA, new AttachmentKeys(Ips("10.88.0.5"), ["cni0", "veth1", "veth2", "cali1"]));

        AssertPlan(
            $$"""
            delete element bridge fwmark ports-mark-00000010-00000010 { "veth1" }
            delete element inet fwmark ifaces-mark-00000888-00000fff { "cali1" }

            """,
            plan);
        Assert.Equal(0, state.ElementDumps);
    }

    [Fact]
    public void Install_repairs_drift_of_the_bridge_table_exactly_in_the_same_transaction()
    {
        // The bridge prerouting chain moved to another priority (shape) and its mark chain's rule lost its mark value.
        var state = FakeNftState.Healthy(Vpn).WithName(InterfaceRuleset.BridgeTable, $"ports-{Vpn.ChainName}", "veth1", PodA.Tag);
        state.BridgeRuleList = [];
        state.AddBridgeRules(Vpn);
        var moved = InterfaceRuleset.BridgePrerouting.Hook! with { Priority = 0 };
        state.BridgeChainList =
        [
            new NftChainInfo(InterfaceRuleset.BridgePrerouting.Name, moved, ChainAttr.FlagBase),
            new NftChainInfo(Vpn.ChainName, null, 0),
        ];
        var markRule = state.BridgeRuleList.Single(r => r.Chain == Vpn.ChainName);
        state.BridgeRuleList[state.BridgeRuleList.IndexOf(markRule)] = markRule with { Expressions = [.. markRule.Expressions.Take(1)] };

        var plan = NftPlanner.Install(state, PodA, Port("veth1", "10.88.0.5"), Vpn).Render();

        Assert.Contains("delete chain bridge fwmark prerouting\n", plan, StringComparison.Ordinal);
        Assert.Contains("add chain bridge fwmark prerouting { type filter hook prerouting priority -200; policy accept; }", plan, StringComparison.Ordinal);
        Assert.Contains($"flush chain bridge fwmark {Vpn.ChainName}\n", plan, StringComparison.Ordinal);
        Assert.Contains($"add rule bridge fwmark {Vpn.ChainName} ", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("inet fwmark", plan, StringComparison.Ordinal); // the inet table is healthy: no writes there
        Assert.DoesNotContain("element", plan, StringComparison.Ordinal); // the port is already PodA's
    }

    [Fact]
    public void Install_on_ifname_sets_of_an_older_version_without_counters_remakes_both_with_their_names_in_one_transaction()
    {
        var ports = InterfaceRuleset.PortSet(Vpn.ChainName).Name;
        var ifaces = InterfaceRuleset.InterfaceSet(Vpn.ChainName).Name;
        var state = FakeNftState.Healthy(Vpn)
            .WithName(InterfaceRuleset.BridgeTable, ports, "veth1", PodA.Tag)
            .WithName(FwmarkRuleset.Table, ifaces, "cali1", OtherNetwork.Tag);
        state.BridgeRuleList = [];
        state.AddBridgeRules(Vpn);
        state.SetsWithoutCounters.UnionWith([ports, ifaces]);

        var plan = NftPlanner.Install(state, PodB, Port("veth2", "10.88.0.6"), Vpn);

        // Each table: prerouting flushed (its lookup refers to the set), the set deleted and made again with the
        // counter template, its owner-tagged names put back, prerouting refilled; then PodB's port. One commit.
        AssertPlan(
            $$"""
            flush chain inet fwmark prerouting
            delete set inet fwmark ifaces-mark-00000010-00000010
            add table inet fwmark
            add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add set inet fwmark ifaces-mark-00000010-00000010 { type ifname; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            add chain inet fwmark replies { type filter hook prerouting priority -151; policy accept; }
            add chain inet fwmark mark-00000010-00000010
            add element inet fwmark ifaces-mark-00000010-00000010 { "cali1" comment "{{OtherNetwork.Tag}}" }
            add rule inet fwmark prerouting ct direction reply return comment "replies of connections opened to the pod keep the main path"
            add rule inet fwmark prerouting iifname @ifaces-mark-00000010-00000010 goto mark-00000010-00000010 comment "routed pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv4 pods of mark-00000010-00000010"
            add rule inet fwmark prerouting ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv6 pods of mark-00000010-00000010"
            flush chain bridge fwmark prerouting
            delete set bridge fwmark ports-mark-00000010-00000010
            add table bridge fwmark
            add set bridge fwmark ports-mark-00000010-00000010 { type ifname; counter; }
            add chain bridge fwmark prerouting { type filter hook prerouting priority -200; policy accept; }
            add chain bridge fwmark mark-00000010-00000010
            add element bridge fwmark ports-mark-00000010-00000010 { "veth1" comment "{{PodA.Tag}}" }
            add rule bridge fwmark prerouting iifname @ports-mark-00000010-00000010 goto mark-00000010-00000010 comment "bridged pods of mark-00000010-00000010"
            add element bridge fwmark ports-mark-00000010-00000010 { "veth2" comment "{{PodB.Tag}}" }

            """,
            plan);
    }

    private static MarkTarget Port(string name, params string[] addresses) =>
        new(new AttachmentPath(MarkKeying.BridgePort, name, "test"), Ips(addresses));

    private static void AssertPlan(string expected, NftTransaction plan) =>
        Assert.Equal(expected.ReplaceLineEndings("\n"), plan.Render());
}
