using System.Text.Json.Nodes;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Kernel;

public class InstallTests : KernelTestBase
{
    [Fact]
    public void Install_creates_exactly_the_documented_structure()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);

        // nft prints "& 0xffffffef | 0x10" as "| 0x10" when the cleared bit is the one being set.
        Assert.Equal(
            $$"""
            table inet fwmark {
            	set pods4-mark-00000010-00000010 {
            		type ipv4_addr
            		counter
            		elements = { 10.88.0.5 counter packets 0 bytes 0 comment "{{PodA.Tag}}" }
            	}

            	set pods6-mark-00000010-00000010 {
            		type ipv6_addr
            		counter
            	}

            	set ifaces-mark-00000010-00000010 {
            		type ifname
            		counter
            	}

            	chain prerouting {
            		type filter hook prerouting priority mangle; policy accept;
            		ct direction reply return comment "replies of connections opened to the pod keep the main path"
            		iifname @ifaces-mark-00000010-00000010 goto mark-00000010-00000010 comment "routed pods of mark-00000010-00000010"
            		ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv4 pods of mark-00000010-00000010"
            		ip6 saddr @pods6-mark-00000010-00000010 goto mark-00000010-00000010 comment "IPv6 pods of mark-00000010-00000010"
            	}

            	chain replies {
            		type filter hook prerouting priority mangle - 1; policy accept;
            		ct direction reply meta mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef counter packets 0 bytes 0 comment "replies keep the main path: clear mark 0x00000010 under mask 0x00000010"
            	}

            	chain mark-00000010-00000010 {
            		meta mark set meta mark | 0x00000010 counter packets 0 bytes 0 comment "set mark 0x00000010 under mask 0x00000010"
            	}
            }

            """.ReplaceLineEndings("\n"),
            NftOracle.Ruleset(Node));
    }

    [Fact]
    public void Install_builds_the_same_ruleset_nft_builds_from_the_rendered_transaction()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Gw2);

        // The oracle: the real nft, fed our own script rendering, in a second scratch namespace.
        var transaction = new NftTransaction(FwmarkRuleset.Table).Add(new AddTableOp());
        foreach (var set in FwmarkRuleset.InetSetsOf(Gw2.ChainName))
        {
            transaction.Add(new AddSetOp(set));
        }

        transaction.Add(new AddChainOp(FwmarkRuleset.Prerouting)).Add(new AddChainOp(InterfaceRuleset.Replies)).Add(new AddChainOp(FwmarkRuleset.MarkChain(Gw2)));
        foreach (var rule in FwmarkRuleset.MarkRules(Gw2).Concat(InterfaceRuleset.RepliesRules([Gw2])).Concat(FwmarkRuleset.PreroutingRules([Gw2.ChainName])))
        {
            transaction.Add(new AddRuleOp(rule));
        }

        transaction.Add(new AddElementOp(new NftElement(FwmarkRuleset.Set4(Gw2.ChainName).Name, Ip("10.88.0.5"), PodA.Tag)));
        transaction.Add(new AddElementOp(new NftElement(FwmarkRuleset.Set6(Gw2.ChainName).Name, Ip("2001:db8::5"), PodA.Tag)));
        var oracle = NewNetns();
        var script = Path.GetTempFileName();
        try
        {
            File.WriteAllText(script, transaction.Render());
            oracle.Run("nft", "-f", script);
        }
        finally
        {
            File.Delete(script);
        }

        Assert.Equal(NftOracle.Ruleset(oracle), NftOracle.Ruleset(Node));
        // nft prints (mark & 0xfffff000) ^ 0x888 in its own normal form: & (mask | value) | value.
        Assert.Contains("meta mark set meta mark & 0xfffff888 | 0x00000888 counter", NftOracle.Ruleset(Node));
    }

    [Fact]
    public void Installing_twice_keeps_one_element_and_one_rule_each_and_sends_no_second_batch()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);
        var generation = Generation();
        var before = NftOracle.Ruleset(Node);

        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5"), Ip("10.88.0.5")], Vpn);

        Assert.Equal(before, NftOracle.Ruleset(Node));
        Assert.Equal(generation, Generation()); // nothing to do → no transaction at all
        var json = NftOracle.Json(Node);
        Assert.Single(NftJson.Elements(json, "pods4"));
        Assert.Single(NftJson.Elements(json, "pods6"));
        Assert.Equal(4, NftJson.Rules(json, "prerouting").Count);
        Assert.Single(NftJson.Rules(json, Vpn.ChainName));
    }

    [Fact]
    public void Ipv6_addresses_go_to_the_ipv6_set()
    {
        Dataplane.Install(PodA, [Ip("2001:db8::5")], Vpn);

        var json = NftOracle.Json(Node);
        Assert.Empty(NftJson.Elements(json, "pods4"));
        Assert.Equal([("2001:db8::5", PodA.Tag, Vpn.ChainName)], NftJson.Elements(json, "pods6"));
    }

    [Fact]
    public void Two_marks_get_two_chains_and_each_element_points_to_its_own()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Gw2);

        var json = NftOracle.Json(Node);
        Assert.Single(NftJson.Rules(json, Vpn.ChainName));
        Assert.Single(NftJson.Rules(json, Gw2.ChainName));
        Assert.Equal(
            [("10.88.0.5", PodA.Tag, Vpn.ChainName), ("10.88.0.6", PodB.Tag, Gw2.ChainName)],
            NftJson.Elements(json, "pods4").OrderBy(e => e.Address));
    }

    [Fact]
    public void Changing_the_mark_of_an_owner_repoints_its_element()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Gw2);

        Assert.Equal([("10.88.0.5", PodA.Tag, Gw2.ChainName)], NftJson.Elements(NftOracle.Json(Node), "pods4"));
    }

    [Fact]
    public void A_pod_moving_between_two_marks_leaves_exactly_one_element()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Gw2);

        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Gw2);

        var json = NftOracle.Json(Node);
        Assert.Equal(
            [("10.88.0.5", PodA.Tag, Gw2.ChainName), ("10.88.0.6", PodB.Tag, Gw2.ChainName)],
            NftJson.Elements(json, "pods4").OrderBy(e => e.Address));
        Assert.Equal([("2001:db8::5", PodA.Tag, Gw2.ChainName)], NftJson.Elements(json, "pods6"));
        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Gw2));

        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn); // and back
        json = NftOracle.Json(Node);
        Assert.Equal(
            [("10.88.0.5", PodA.Tag, Vpn.ChainName), ("10.88.0.6", PodB.Tag, Gw2.ChainName)],
            NftJson.Elements(json, "pods4").OrderBy(e => e.Address));
        Assert.Equal([("2001:db8::5", PodA.Tag, Vpn.ChainName)], NftJson.Elements(json, "pods6"));
    }

    [Fact]
    public void Prerouting_holds_two_lookups_per_mark_chain_in_name_order()
    {
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Gw2);
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn); // sorts before Gw2's chain: prerouting is rebuilt

        Assert.Equal(
            [
                "ct direction reply return",
                $"ip saddr @pods4-{Vpn.ChainName} goto {Vpn.ChainName}",
                $"ip6 saddr @pods6-{Vpn.ChainName} goto {Vpn.ChainName}",
                $"ip saddr @pods4-{Gw2.ChainName} goto {Gw2.ChainName}",
                $"ip6 saddr @pods6-{Gw2.ChainName} goto {Gw2.ChainName}",
            ],
            Node.Run("nft", "list", "chain", "inet", "fwmark", "prerouting").Stdout.Split('\n')
                .Select(l => l.Trim())
                .Where(l => l.StartsWith("ct ", StringComparison.Ordinal) || l.StartsWith("ip", StringComparison.Ordinal))
                .Select(l => l[..l.IndexOf(" comment ", StringComparison.Ordinal)]));
        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
        Assert.Empty(Dataplane.Verify(PodB, [Ip("10.88.0.6")], Gw2));
    }

    [Fact]
    public void At_thousands_of_pods_elements_carry_no_verdict_so_a_commit_has_nothing_to_validate()
    {
        // The kernel re-validates the table (walking every element of a set) only when an element
        // carries a goto/jump. Here no element can: the sets are plain sets, and the only gotos
        // are in prerouting's fixed rules. Assert that shape at 2,000 pods, then one more ADD.
        var owners = Enumerable.Range(0, 2000).Select(i => new AttachmentOwner("net1", $"bulk-{i}", "eth0")).ToList();
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Gw2);
        for (var i = 0; i < owners.Count; i++)
        {
            var set = FwmarkRuleset.Set4(i % 2 == 0 ? Vpn.ChainName : Gw2.ChainName);
            transaction.Add(new AddElementOp(new NftElement(set.Name, Ip($"10.91.{i / 250}.{(i % 250) + 1}"), owners[i].Tag)));
        }

        using (var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path))
        {
            transaction.Commit(socket);
        }

        var generation = Generation();
        Dataplane.Install(new AttachmentOwner("net1", "one-more", "eth0"), [Ip("10.88.0.7"), Ip("2001:db8::7")], Vpn);

        Assert.Equal(generation + 1, Generation()); // exactly one commit, and it only added elements
        var json = NftOracle.Json(Node);
        Assert.Empty(NftJson.Objects(json, "map"));
        var sets = NftJson.Objects(json, "set").ToList();
        Assert.Equal(
            [$"ifaces-{Vpn.ChainName}", $"ifaces-{Gw2.ChainName}", $"pods4-{Vpn.ChainName}", $"pods4-{Gw2.ChainName}", $"pods6-{Vpn.ChainName}", $"pods6-{Gw2.ChainName}"],
            sets.Select(s => (string)s["name"]!).Order(StringComparer.Ordinal));
        Assert.All(sets, s => Assert.Null(s["map"])); // a map would name its data type here
        // Every element is a bare address (or {"elem": {"val", "comment"}}), never a [key, verdict] pair.
        Assert.All(sets.SelectMany(s => (s["elem"] as JsonArray) ?? []), e => Assert.IsNotType<JsonArray>(e));
        Assert.Equal(2000 + 3, NftJson.Elements(json, "pods4").Count);
        Assert.Equal(2, NftJson.Elements(json, "pods6").Count);
        Assert.Equal(1 + (2 * 3), NftJson.Rules(json, "prerouting").Count);
        Assert.Equal(
            [Vpn.ChainName, Gw2.ChainName],
            NftJson.Rules(json, "prerouting").Skip(1).Select(GotoTarget).Distinct());
        Assert.Contains(("10.88.0.7", new AttachmentOwner("net1", "one-more", "eth0").Tag, Vpn.ChainName), NftJson.Elements(json, "pods4"));
    }

    private static string GotoTarget(JsonObject rule) =>
        (string)rule["expr"]!.AsArray().Select(e => e!["goto"]).Single(g => g is not null)!["target"]!;

    [Fact]
    public void Ip_reuse_hands_the_element_to_the_new_owner_whose_element_the_old_owner_cannot_remove()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.5")], Gw2);
        Assert.Equal([("10.88.0.5", PodB.Tag, Gw2.ChainName)], NftJson.Elements(NftOracle.Json(Node), "pods4"));

        Dataplane.Remove(PodA, [Ip("10.88.0.5")]); // the late DEL of the old pod
        Dataplane.Remove(PodA, null);

        Assert.Equal([("10.88.0.5", PodB.Tag, Gw2.ChainName)], NftJson.Elements(NftOracle.Json(Node), "pods4"));
    }

    [Fact]
    public void Rules_are_repaired_after_a_flush_and_a_healthy_mark_chain_keeps_its_rule()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        var markHandles = NftJson.Handles(NftOracle.Json(Node), Vpn.ChainName);
        var healthy = NftOracle.Ruleset(Node);

        Node.Run("nft", "flush", "chain", "inet", "fwmark", "prerouting");
        Assert.Empty(NftJson.Rules(NftOracle.Json(Node), "prerouting"));
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);

        var json = NftOracle.Json(Node);
        Assert.Equal(4, NftJson.Rules(json, "prerouting").Count);
        Assert.Equal(markHandles, NftJson.Handles(json, Vpn.ChainName)); // not re-created → counters kept
        Assert.Equal(
            healthy.Split('\n').Where(l => !l.Contains("elements")),
            NftOracle.Ruleset(Node).Split('\n').Where(l => !l.Contains("elements")));
    }

    [Fact]
    public void A_partly_broken_chain_is_flushed_and_refilled_not_appended_to()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        var handle = NftJson.Handles(NftOracle.Json(Node), "prerouting")[1];
        Node.Run("nft", "delete", "rule", "inet", "fwmark", "prerouting", "handle", handle.ToString());
        Node.Run("nft", "add", "rule", "inet", "fwmark", Vpn.ChainName, "counter", "comment", "\"intruder\"");

        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);

        var json = NftOracle.Json(Node);
        Assert.Equal(4, NftJson.Rules(json, "prerouting").Count);
        Assert.Single(NftJson.Rules(json, Vpn.ChainName));
        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void A_failed_install_reports_the_operation_and_leaves_the_ruleset_byte_identical()
    {
        // Our table, owned by another live socket (NFT_TABLE_F_OWNER) and holding a "prerouting"
        // with another hook: the repair's first change is refused (EPERM), and with it the whole
        // transaction (the chain rebuild, sets, rules and the element queued after them).
        using var owner = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        new NftTransaction(FwmarkRuleset.Table)
            .Add(new OwnedTableOp())
            .Add(new AddChainOp(new NftChain("prerouting", new NftHook("filter", InetHook.Prerouting, 0, Verdict.Accept))))
            .Commit(owner);
        var before = NftOracle.Ruleset(Node);

        var error = Assert.Throws<DataplaneException>(() => Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn));

        Assert.Equal(DataplaneFailure.Failed, error.Kind);
        Assert.StartsWith("failed to delete chain prerouting: ", error.Message);
        Assert.Contains("add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5", error.Details);
        Assert.Equal(before, NftOracle.Ruleset(Node));
    }

    /// <summary>NEWTABLE with NFT_TABLE_F_OWNER: only the sending socket may change the table until it closes.</summary>
    private sealed record OwnedTableOp : NftOperation
    {
        public override string Description => "add owned table";

        public override string Render(NftTable table) => $"add table {table} {{ flags owner; }}";

        public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
        {
            var message = NftMessage.Begin(ref writer, NftMessageType.NewTable, Ack | NetlinkConstants.NLM_F_CREATE, sequence, table.Family);
            writer.WriteString(TableAttr.Name, table.Name);
            writer.WriteBigEndianU32(TableAttr.Flags, 2);
            writer.EndMessage(message);
        }
    }

    [Fact]
    public void A_batch_failing_in_its_last_message_applies_none_of_the_earlier_ones()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        var before = NftOracle.Ruleset(Node);
        var generation = Generation();

        var transaction = new NftTransaction(FwmarkRuleset.Table)
            .Add(new AddChainOp(FwmarkRuleset.MarkChain(Gw2)))
            .Add(new AddRuleOp(FwmarkRuleset.MarkRules(Gw2)[0]))
            .Add(new AddElementOp(new NftElement(FwmarkRuleset.Set4(Vpn.ChainName).Name, Ip("10.88.0.7"), PodB.Tag)))
            .Add(new AddElementOp(new NftElement(FwmarkRuleset.Set4(Vpn.ChainName).Name, Ip("10.88.0.5"), PodB.Tag))); // exists → EEXIST
        using var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        var error = Assert.Throws<NftException>(() => transaction.Commit(socket));

        Assert.Equal("failed to add element 10.88.0.5 to set pods4-mark-00000010-00000010: File exists", error.Message);
        Assert.Equal(Errno.EEXIST, error.Cause.Errno);
        Assert.NotNull(error.Cause.BadAttributeOffset); // extended ACK points into the message
        Assert.IsType<AddElementOp>(error.Operation);
        Assert.Equal(before, NftOracle.Ruleset(Node));
        Assert.Equal(generation, Generation());
    }

    [Fact]
    public void Install_waits_for_the_lock_and_then_asks_to_try_again_later()
    {
        var impatient = new NftDataplane(Node.Path, LockPath, TimeSpan.FromMilliseconds(300));
        using (Locking.FileLock.Acquire(LockPath, TimeSpan.FromSeconds(1)))
        {
            var error = Assert.Throws<DataplaneException>(() => impatient.Install(PodA, [Ip("10.88.0.5")], Vpn));
            Assert.Equal(DataplaneFailure.Busy, error.Kind);
            Assert.StartsWith($"failed to lock {LockPath}: ", error.Message);
        }

        impatient.Install(PodA, [Ip("10.88.0.5")], Vpn); // released → goes through
        Assert.Single(NftJson.Elements(NftOracle.Json(Node), "pods4"));
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite,
            File.GetUnixFileMode(LockPath));
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(Path.GetDirectoryName(LockPath)!));
    }

}
