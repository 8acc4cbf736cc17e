using System.Diagnostics;
using Fwmark.Core;
using Fwmark.Core.Agent;
using Fwmark.Core.Paths;
using Fwmark.Linux.Agent;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;
using Fwmark.Linux.Tests.Kernel;

namespace Fwmark.Linux.Tests.Agent;

/// <summary>
/// The agent's building blocks against the real kernel, in a scratch namespace: the owned guard table, the
/// mirror fed by real notifications, the lock-free restore, and the plugin's wait for that restore.
/// </summary>
public sealed class GuardTableTests : KernelTestBase
{
    private static readonly System.Net.IPAddress A = Ip("10.1.0.5");
    private static readonly System.Net.IPAddress B = Ip("10.1.0.6");

    [Fact]
    public void The_guard_is_owned_survives_a_flush_refuses_others_and_goes_with_its_socket()
    {
        Dataplane.Install(PodA, [A], Vpn);
        var owner = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        var guard = new GuardTable(owner);
        var mirror = new ElementMirror();
        mirror.Load(owner);

        Assert.Equal(1, guard.Sync(mirror));
        Node.Run("nft", "flush", "ruleset");

        var listing = Node.Run("nft", "list", "table", "inet", "fwmark-guard").Stdout;
        Assert.Contains("flags owner", listing);
        Assert.Contains($"{A} counter packets 0 bytes 0 comment \"{PodA.Tag}\"", listing);
        Assert.Contains("priority mangle + 1", listing);
        var (_, code, _, error, _) = Node.Exec("nft", "delete", "table", "inet", "fwmark-guard");
        Assert.NotEqual(0, code);
        Assert.Contains("Operation not permitted", error);

        guard.Dispose();
        Assert.DoesNotContain("fwmark-guard", Node.Run("nft", "list", "tables").Stdout);
    }

    [Fact]
    public void A_guard_commit_carries_the_plugins_structure_claim_only_when_nothing_else_was_committed()
    {
        Dataplane.Install(PodA, [A], Vpn);
        Dataplane.Install(PodB, [B], Vpn); // leaves a claim (Dataplane/StructureClaim.cs)
        using var owner = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        var guard = new GuardTable(owner, new StructureClaimFile(Path.GetDirectoryName(LockPath)!));
        var mirror = new ElementMirror();
        mirror.Load(owner);

        Assert.Equal(2, guard.Sync(mirror));
        Assert.Equal(Generation(), ClaimOnFile()?.Generation); // the plugin's next call still skips the structure reads

        Dataplane.Install(new AttachmentOwner("net1", "container-c", "eth0"), [Ip("10.1.0.7")], Vpn);
        Node.Run("nft", "flush", "chain", "inet", "fwmark", Vpn.ChainName); // tampering between the plugin's commit and the guard's
        mirror.Load(owner);
        Assert.Equal(1, guard.Sync(mirror));
        Assert.NotEqual(Generation(), ClaimOnFile()?.Generation);
        Assert.NotEmpty(Dataplane.Verify(PodA, [A], Vpn)); // the claim lapsed: CHECK reads everything and finds it
    }

    [Fact]
    public void Notifications_replay_element_adds_and_deletes_but_not_the_loss_of_the_table()
    {
        using var events = NetlinkSubscription.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path, NetlinkSubscription.NfTablesGroup);
        var mirror = new ElementMirror();
        Dataplane.Install(PodA, [A], Vpn);
        Dataplane.Install(PodB, [B], Vpn);
        Dataplane.Remove(PodA, [A]);
        Node.Run("nft", "delete", "table", "inet", "fwmark");

        var seen = new List<NftEvent>();
        while (events.TryReceive(wait: false, out var datagram))
        {
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out var message))
            {
                if (NftEvent.Parse(message) is { } change && change.IsFor(FwmarkRuleset.Table))
                {
                    seen.Add(change);
                    mirror.Apply(change);
                }
            }
        }

        Assert.Contains(seen, e => e.Kind == NftMessageType.DelTable);
        Assert.Contains(seen, e => e.Kind == NftMessageType.DelSetElem && e.Keys.Contains(A));
        var set = FwmarkRuleset.Set4(Vpn.ChainName).Name;
        Assert.Equal([B], mirror.Elements(set).Keys);
        Assert.Equal(PodB.Tag, mirror.Elements(set)[B]);
    }

    [Fact]
    public void A_plugin_call_that_finds_the_table_gone_waits_for_the_agents_restore_so_its_del_is_not_lost()
    {
        Dataplane.Install(PodA, [A], Vpn);
        Dataplane.Install(PodB, [B], Vpn);
        using var owner = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        var mirror = new ElementMirror();
        mirror.Load(owner);
        new GuardTable(owner).Sync(mirror);
        Node.Run("nft", "flush", "ruleset");

        // The agent restores 300 ms after the flush; the DEL of A runs in between.
        var restorer = new Thread(() =>
        {
            Thread.Sleep(300);
            MainTableRepair.TryRestoreMissing(owner, mirror, [], NoAttachmentRecord.Instance);
        });
        restorer.Start();
        var clock = Stopwatch.StartNew();
        Dataplane.Remove(PodA, [A]);
        clock.Stop();
        restorer.Join();

        var elements = Node.Run("nft", "list", "table", "inet", "fwmark").Stdout;
        Assert.DoesNotContain($"{A} ", elements);
        Assert.Contains($"{B} counter packets 0 bytes 0 comment \"{PodB.Tag}\"", elements);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), AgentHandoff.MaxWait);
    }

    [Fact]
    public void The_lock_free_restore_applies_nothing_when_someone_created_the_table_first()
    {
        Dataplane.Install(PodA, [A], Vpn);
        using var owner = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        var mirror = new ElementMirror();
        mirror.Load(owner);
        Node.Run("nft", "delete", "table", "inet", "fwmark");
        Node.Run("nft", "add", "table", "inet", "fwmark");

        Assert.Null(MainTableRepair.TryRestoreMissing(owner, mirror, [], NoAttachmentRecord.Instance));
        Assert.DoesNotContain("set ", Node.Run("nft", "list", "table", "inet", "fwmark").Stdout);

        // Under the lock, the repair then adds what the mirror holds and the table lacks.
        var repairs = MainTableRepair.Repair(owner, mirror, [], NoAttachmentRecord.Instance);
        Assert.Contains(repairs, r => r.Contains("1 element(s) were missing", StringComparison.Ordinal));
        Assert.Contains($"{A} counter packets 0 bytes 0 comment \"{PodA.Tag}\"", Node.Run("nft", "list", "table", "inet", "fwmark").Stdout);
        Assert.Empty(MainTableRepair.Repair(owner, mirror, [], NoAttachmentRecord.Instance));
    }

    [Fact]
    public void Without_a_guard_a_plugin_call_does_not_wait()
    {
        Dataplane.Install(PodA, [A], Vpn);
        Node.Run("nft", "flush", "ruleset");
        var clock = Stopwatch.StartNew();
        Dataplane.Remove(PodA, [A]);
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(500), $"DEL took {clock.Elapsed.TotalMilliseconds} ms without any agent");
    }

    [Fact]
    public void Interface_keyed_attachments_are_guarded_in_an_owned_bridge_table_and_the_inet_ifname_sets()
    {
        Dataplane.InstallTarget(PodA, Port("vethA"), Vpn);
        Dataplane.InstallTarget(PodB, new MarkTarget(new AttachmentPath(MarkKeying.InputInterface, "caliB", "test"), [B]), Vpn);
        using var owner = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        var guard = new GuardTable(owner);
        var mirror = new ElementMirror();
        mirror.Load(owner);

        Assert.Equal(2, guard.Sync(mirror));
        Node.Run("nft", "flush", "ruleset");

        var bridge = Node.Run("nft", "list", "table", "bridge", "fwmark-guard").Stdout;
        Assert.Contains("flags owner", bridge);
        Assert.Contains($"\"vethA\" counter packets 0 bytes 0 comment \"{PodA.Tag}\"", bridge);
        Assert.Contains("priority filter + 1", bridge);
        Assert.Contains($"iifname @ports-{Vpn.ChainName} goto {Vpn.ChainName}", bridge);
        var inet = Node.Run("nft", "list", "table", "inet", "fwmark-guard").Stdout;
        Assert.Contains($"\"caliB\" counter packets 0 bytes 0 comment \"{PodB.Tag}\"", inet);
        Assert.Contains("chain replies", inet);
        var (_, code, _, error, _) = Node.Exec("nft", "delete", "table", "bridge", "fwmark-guard");
        Assert.NotEqual(0, code);
        Assert.Contains("Operation not permitted", error);

        // The restore brings both of the plugin's tables back, with their names.
        Assert.Equal(2, MainTableRepair.TryRestoreMissing(owner, mirror, [], NoAttachmentRecord.Instance));
        Assert.Contains($"\"vethA\" counter packets 0 bytes 0 comment \"{PodA.Tag}\"", Node.Run("nft", "list", "table", "bridge", "fwmark").Stdout);
        Assert.Contains($"\"caliB\" counter packets 0 bytes 0 comment \"{PodB.Tag}\"", Node.Run("nft", "list", "table", "inet", "fwmark").Stdout);
        Assert.Empty(Dataplane.VerifyTarget(PodA, Port("vethA"), Vpn));
        Assert.Empty(MainTableRepair.Repair(owner, mirror, [], NoAttachmentRecord.Instance));
    }

    [Fact]
    public void Name_notifications_of_both_tables_are_mirrored()
    {
        using var events = NetlinkSubscription.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path, NetlinkSubscription.NfTablesGroup);
        var mirror = new ElementMirror();
        Dataplane.InstallTarget(PodA, Port("vethA"), Vpn);
        Dataplane.InstallTarget(PodB, Port("vethB"), Vpn);
        Dataplane.RemoveKeys(PodA, null);
        Node.Run("nft", "delete", "table", "bridge", "fwmark");

        while (events.TryReceive(wait: false, out var datagram))
        {
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out var message))
            {
                if (NftEvent.Parse(message) is { IsForPlugin: true } change)
                {
                    mirror.Apply(change);
                }
            }
        }

        Assert.True(mirror.HasBridge);
        Assert.Equal(new Dictionary<string, string?> { ["vethB"] = PodB.Tag }, mirror.Names(InterfaceRuleset.BridgeTable, InterfaceRuleset.PortSet(Vpn.ChainName).Name));
    }

    [Fact]
    public void A_del_that_finds_only_the_bridge_table_gone_waits_for_the_agents_restore()
    {
        Dataplane.InstallTarget(PodA, Port("vethA"), Vpn);
        Dataplane.InstallTarget(PodB, Port("vethB"), Vpn);
        using var owner = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        var mirror = new ElementMirror();
        mirror.Load(owner);
        new GuardTable(owner).Sync(mirror);
        Node.Run("nft", "delete", "table", "bridge", "fwmark");

        var restorer = new Thread(() =>
        {
            Thread.Sleep(300);
            MainTableRepair.TryRestoreMissing(owner, mirror, [], NoAttachmentRecord.Instance);
        });
        restorer.Start();
        var clock = Stopwatch.StartNew();
        Dataplane.RemoveKeys(PodA, new AttachmentKeys([A], ["vethA"]));
        clock.Stop();
        restorer.Join();

        var bridge = Node.Run("nft", "list", "table", "bridge", "fwmark").Stdout;
        Assert.DoesNotContain("\"vethA\"", bridge);
        Assert.Contains($"\"vethB\" counter packets 0 bytes 0 comment \"{PodB.Tag}\"", bridge);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), AgentHandoff.MaxWait);
    }

    private static MarkTarget Port(string name) => new(new AttachmentPath(MarkKeying.BridgePort, name, "test"), [A]);
}
