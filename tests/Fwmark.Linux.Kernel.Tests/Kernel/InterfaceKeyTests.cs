using Fwmark.Core;
using Fwmark.Core.Paths;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>The interface paths against the kernel: both tables, one transaction, owner tags, reuse, DEL, GC, CHECK.</summary>
public class InterfaceKeyTests : KernelTestBase
{
    private static readonly AttachmentOwner PodC = new("net2", "container-c", "eth0");

    [Fact]
    public void A_bridge_port_goes_into_the_bridge_table_in_the_same_transaction_as_the_inet_structure()
    {
        var before = Generation();

        Dataplane.InstallTarget(PodA, Port("vethA", "10.88.0.5"), Vpn);

        Assert.Equal(before + 1, Generation()); // one commit for both tables
        Assert.Equal([("vethA", PodA.Tag)], Names("bridge", "ports-"));
        Assert.Empty(Names("inet", "ifaces-"));
        Assert.Empty(NftJson.Elements(NftOracle.Json(Node), "pods4")); // no address key on an interface path
        Assert.Contains("iifname @ports-mark-00000010-00000010 goto mark-00000010-00000010", Node.Run("nft", "list", "table", "bridge", "fwmark").Stdout);
        Assert.Empty(Dataplane.VerifyTarget(PodA, Port("vethA", "10.88.0.5"), Vpn));
    }

    [Fact]
    public void A_routed_interface_goes_into_the_inet_table_and_no_bridge_table_is_made()
    {
        Dataplane.InstallTarget(PodA, Routed("caliA", "10.88.0.5"), Vpn);

        Assert.Equal([("caliA", PodA.Tag)], Names("inet", "ifaces-"));
        Assert.DoesNotContain("table bridge fwmark", NftOracle.Ruleset(Node));
        Assert.Empty(Dataplane.VerifyTarget(PodA, Routed("caliA", "10.88.0.5"), Vpn));
    }

    [Fact]
    public void A_reused_name_belongs_to_the_newest_owner_and_the_old_owners_del_leaves_it()
    {
        Dataplane.InstallTarget(PodA, Port("vethX", "10.88.0.5"), Vpn);
        Dataplane.InstallTarget(PodB, Port("vethX", "10.88.0.6"), Gw2);

        Assert.Equal([("vethX", PodB.Tag)], Names("bridge", "ports-"));
        Assert.Equal([("vethX", PodB.Tag)], Names("bridge", $"ports-{Gw2.ChainName}")); // moved to the new owner's mark
        Dataplane.RemoveKeys(PodA, new AttachmentKeys([Ip("10.88.0.5")], ["cni0", "vethX"]));
        Dataplane.RemoveKeys(PodA, null);
        Assert.Equal([("vethX", PodB.Tag)], Names("bridge", "ports-"));

        Dataplane.RemoveKeys(PodB, new AttachmentKeys([Ip("10.88.0.6")], ["cni0", "vethX"]));
        Assert.Empty(Names("bridge", "ports-"));
    }

    [Fact]
    public void A_path_change_moves_the_key_in_one_install()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn); // address path first (e.g. an older version's ADD)

        Dataplane.InstallTarget(PodA, Port("vethA", "10.88.0.5"), Vpn);

        Assert.Empty(NftJson.Elements(NftOracle.Json(Node), "pods4"));
        Assert.Equal([("vethA", PodA.Tag)], Names("bridge", "ports-"));
    }

    [Fact]
    public void Another_networks_element_for_the_same_address_stays_when_an_interface_pod_is_added()
    {
        // Overlapping ranges: a macvlan pod of net2 keyed by 10.88.0.5, a bridged pod of net1 with the same IP.
        var other = new AttachmentOwner("net2", "container-m", "eth0");
        Dataplane.Install(other, [Ip("10.88.0.5")], Vpn);

        Dataplane.InstallTarget(PodA, Port("vethA", "10.88.0.5"), Vpn);

        Assert.Equal([("10.88.0.5", other.Tag, Vpn.ChainName)], NftJson.Elements(NftOracle.Json(Node), "pods4"));
    }

    [Fact]
    public void Del_without_keys_and_gc_find_interface_elements_by_owner_tag()
    {
        var stale = new AttachmentOwner("net1", "container-s", "eth0");
        var otherNetwork = new AttachmentOwner("net2", "container-o", "eth0");
        Dataplane.InstallTarget(PodA, Port("vethA", "10.88.0.5"), Vpn);
        Dataplane.InstallTarget(stale, Routed("caliS", "10.88.0.7"), Vpn);
        Dataplane.InstallTarget(otherNetwork, Port("vethO", "10.88.0.8"), Vpn);
        Dataplane.InstallTarget(PodB, Port("vethB", "10.88.0.6"), Vpn);

        Dataplane.RemoveKeys(PodB, null);
        var removed = Dataplane.Collect("net1", [PodA]);

        Assert.Equal(1, removed);
        Assert.Equal(["vethA", "vethO"], Names("bridge", "ports-").Select(e => e.Name).Order());
        Assert.Empty(Names("inet", "ifaces-"));
    }

    [Fact]
    public void Verify_names_the_missing_port_and_a_copy_in_another_set()
    {
        Dataplane.InstallTarget(PodA, Port("vethA", "10.88.0.5"), Vpn);
        Node.Run("nft", "delete", "element", "bridge", "fwmark", "ports-mark-00000010-00000010", "{ \"vethA\" }");
        Dataplane.InstallTarget(PodB, Routed("vethZ", "10.88.0.6"), Gw2);
        Node.Run("nft", "add", "element", "inet", "fwmark", "ifaces-mark-00000010-00000010", "{ \"vethA\" }");

        Assert.Equal(
            [
                "element \"vethA\" is also in set ifaces-mark-00000010-00000010 of table inet fwmark, which marks it differently from bridge port vethA with chain mark-00000010-00000010",
                "element \"vethA\" (bridge port vethA) is missing from set ports-mark-00000010-00000010 of table bridge fwmark",
            ],
            Dataplane.VerifyTarget(PodA, Port("vethA", "10.88.0.5"), Vpn));
    }

    [Fact]
    public void A_bridge_prerouting_of_another_priority_is_remade_with_the_rest_in_one_transaction()
    {
        // Drift in bridge fwmark: a chain called "prerouting" at priority 0 (after the bridge's own decisions).
        // Exact repair deletes and re-makes it at -200 in the same batch as the inet table and the port.
        Node.Run("nft", "add", "table", "bridge", "fwmark");
        Node.Run("nft", "add", "chain", "bridge", "fwmark", "prerouting", "{ type filter hook prerouting priority 0; }");

        Dataplane.InstallTarget(PodA, Port("vethA", "10.88.0.5"), Vpn);

        var bridge = Node.Run("nft", "-y", "list", "table", "bridge", "fwmark").Stdout; // -y: numeric priorities
        Assert.Contains("hook prerouting priority -200;", bridge);
        Assert.DoesNotContain("priority 0;", bridge);
        Assert.Empty(Dataplane.VerifyTarget(PodA, Port("vethA", "10.88.0.5"), Vpn));
    }

    [Fact]
    public void Ifname_sets_of_an_older_version_without_counters_are_reported_and_remade_with_their_names_by_the_next_install()
    {
        Dataplane.InstallTarget(PodA, Port("vethA", "10.88.0.5"), Vpn);
        Dataplane.InstallTarget(PodC, Routed("caliC", "10.88.0.7"), Vpn);
        var (ports, ifaces, mark) = ($"ports-{Vpn.ChainName}", $"ifaces-{Vpn.ChainName}", Vpn.ChainName);
        // What an fwmark before per-element counters made: both ifname sets without the counter template.
        Node.Run("nft", "flush", "chain", "bridge", "fwmark", "prerouting");
        Node.Run("nft", "delete", "set", "bridge", "fwmark", ports);
        Node.Run("nft", "add", "set", "bridge", "fwmark", ports, "{ type ifname; }");
        Node.Run("nft", "add", "element", "bridge", "fwmark", ports, $"{{ \"vethA\" comment \"{PodA.Tag}\" }}");
        Node.Run("nft", "add", "rule", "bridge", "fwmark", "prerouting", "iifname", $"@{ports}", "goto", mark, "comment", $"\"bridged pods of {mark}\"");
        Node.Run("nft", "flush", "chain", "inet", "fwmark", "prerouting");
        Node.Run("nft", "delete", "set", "inet", "fwmark", ifaces);
        Node.Run("nft", "add", "set", "inet", "fwmark", ifaces, "{ type ifname; }");
        Node.Run("nft", "add", "element", "inet", "fwmark", ifaces, $"{{ \"caliC\" comment \"{PodC.Tag}\" }}");
        Node.Run("nft", "add", "rule", "inet", "fwmark", "prerouting", "ct", "direction", "reply", "return", "comment", "\"replies of connections opened to the pod keep the main path\"");
        Node.Run("nft", "add", "rule", "inet", "fwmark", "prerouting", "iifname", $"@{ifaces}", "goto", mark, "comment", $"\"routed pods of {mark}\"");
        Node.Run("nft", "add", "rule", "inet", "fwmark", "prerouting", "ip", "saddr", $"@pods4-{mark}", "goto", mark, "comment", $"\"IPv4 pods of {mark}\"");
        Node.Run("nft", "add", "rule", "inet", "fwmark", "prerouting", "ip6", "saddr", $"@pods6-{mark}", "goto", mark, "comment", $"\"IPv6 pods of {mark}\"");
        Assert.False(new Status.KernelMarkingReader(Node.Path).Read().Counters);

        Assert.Contains(Dataplane.VerifyTarget(PodA, Port("vethA", "10.88.0.5"), Vpn), p => p.Contains($"set {ports} has no element expressions where fwmark makes a counter per element", StringComparison.Ordinal));
        Assert.Contains(Dataplane.VerifyTarget(PodC, Routed("caliC", "10.88.0.7"), Vpn), p => p.Contains($"set {ifaces} has no element expressions where fwmark makes a counter per element", StringComparison.Ordinal));
        var before = Generation();

        Dataplane.InstallTarget(PodB, Port("vethB", "10.88.0.6"), Vpn);

        Assert.Equal(before + 1, Generation()); // both sets re-made and PodB added in one commit
        Assert.Equal([("vethA", PodA.Tag), ("vethB", PodB.Tag)], Names("bridge", "ports-").Order());
        Assert.Equal([("caliC", PodC.Tag)], Names("inet", "ifaces-"));
        Assert.Contains($"\"vethA\" counter packets 0 bytes 0 comment \"{PodA.Tag}\"", Node.Run("nft", "list", "table", "bridge", "fwmark").Stdout);
        Assert.Contains($"\"caliC\" counter packets 0 bytes 0 comment \"{PodC.Tag}\"", Node.Run("nft", "list", "table", "inet", "fwmark").Stdout);
        var snapshot = new Status.KernelMarkingReader(Node.Path).Read();
        Assert.True(snapshot.Counters);
        Assert.All(snapshot.Elements, e => Assert.NotNull(e.Counter));
        Assert.Empty(Dataplane.VerifyTarget(PodA, Port("vethA", "10.88.0.5"), Vpn));
        Assert.Empty(Dataplane.VerifyTarget(PodC, Routed("caliC", "10.88.0.7"), Vpn));
    }

    private List<(string Name, string? Comment)> Names(string family, string prefix) =>
    [
        .. NftJson.Objects(NftOracle.Json(Node), "set")
            .Where(s => s["family"]?.GetValue<string>() == family && s["name"]!.GetValue<string>().StartsWith(prefix, StringComparison.Ordinal))
            .SelectMany(NftJson.SetElements),
    ];

}
