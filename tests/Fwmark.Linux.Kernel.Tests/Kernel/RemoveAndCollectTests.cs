using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Kernel;

public class RemoveAndCollectTests : KernelTestBase
{
    [Fact]
    public void Remove_with_addresses_deletes_only_the_owners_elements()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);

        Dataplane.Remove(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5"), Ip("10.88.0.6"), Ip("10.88.0.99")]);

        var json = NftOracle.Json(Node);
        Assert.Equal([("10.88.0.6", PodB.Tag, Vpn.ChainName)], NftJson.Elements(json, "pods4"));
        Assert.Empty(NftJson.Elements(json, "pods6"));
        Assert.Equal(4, NftJson.Rules(json, "prerouting").Count); // shared structure stays
    }

    [Fact]
    public void Remove_without_addresses_finds_the_owners_elements_in_every_set()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6"), Ip("2001:db8::6")], Vpn);
        Dataplane.Install(new AttachmentOwner(PodA.Network, PodA.ContainerId, "eth1"), [Ip("10.88.0.7")], Gw2);
        Dataplane.Install(PodA, [Ip("10.88.0.8")], Gw2);

        Dataplane.Remove(PodA, null);

        var json = NftOracle.Json(Node);
        Assert.Equal(["10.88.0.6", "10.88.0.7"], NftJson.Elements(json, "pods4").Select(e => e.Address).Order());
        Assert.Equal(["2001:db8::6"], NftJson.Elements(json, "pods6").Select(e => e.Address));
    }

    [Fact]
    public void Remove_on_an_empty_namespace_succeeds_and_creates_nothing()
    {
        Dataplane.Remove(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")]);
        Dataplane.Remove(PodA, null);

        Assert.Equal("", NftOracle.Ruleset(Node));
    }

    [Fact]
    public void Remove_and_collect_never_touch_elements_without_one_of_our_tags()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Node.Run("nft", "add", "element", "inet", "fwmark", $"pods4-{Vpn.ChainName}", "{ 10.88.0.8 comment \"added by hand\" }");
        Node.Run("nft", "add", "element", "inet", "fwmark", $"pods4-{Vpn.ChainName}", "{ 10.88.0.9 }");

        Dataplane.Remove(PodA, null);
        var removed = Dataplane.Collect("net1", []);

        Assert.Equal(0, removed);
        Assert.Equal(
            [("10.88.0.8", "added by hand", Vpn.ChainName), ("10.88.0.9", null, Vpn.ChainName)],
            NftJson.Elements(NftOracle.Json(Node), "pods4").OrderBy(e => e.Address));
    }

    [Fact]
    public void Collect_removes_only_stale_elements_of_its_own_network()
    {
        var otherNetwork = new AttachmentOwner("net2", "container-c", "eth0");
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);
        Dataplane.Install(otherNetwork, [Ip("10.89.0.5")], Vpn);

        var removed = Dataplane.Collect("net1", [PodB, new AttachmentOwner("net1", "gone", "eth1")]);

        Assert.Equal(2, removed);
        var json = NftOracle.Json(Node);
        Assert.Equal(["10.88.0.6", "10.89.0.5"], NftJson.Elements(json, "pods4").Select(e => e.Address).Order());
        Assert.Empty(NftJson.Elements(json, "pods6"));
    }

    [Fact]
    public void Collect_on_an_empty_namespace_removes_nothing()
    {
        Assert.Equal(0, Dataplane.Collect("net1", []));
        Assert.Equal("", NftOracle.Ruleset(Node));
    }

    [Fact]
    public void Collect_scales_to_thousands_of_elements_in_one_transaction()
    {
        // 3000 elements: the dump spans many datagrams and the delete batch carries 3000 ACKs.
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        for (var i = 0; i < 3000; i++)
        {
            var owner = new AttachmentOwner("net1", $"stale-{i}", "eth0");
            transaction.Add(new AddElementOp(new NftElement($"pods4-{Vpn.ChainName}", Ip($"10.90.{i / 250}.{(i % 250) + 1}"), owner.Tag)));
        }

        using (var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, Node.Path))
        {
            transaction.Commit(socket);
        }

        Assert.Equal(3001, NftJson.Elements(NftOracle.Json(Node), "pods4").Count);

        var removed = Dataplane.Collect("net1", [PodA]);

        Assert.Equal(3000, removed);
        Assert.Equal(["10.88.0.5"], NftJson.Elements(NftOracle.Json(Node), "pods4").Select(e => e.Address));
    }
}
