using System.Net;
using System.Net.Sockets;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests;

/// <summary>
/// Issue 9: a marked pod's packets are recognised by the host side of its veth, not by the source address
/// prevResult reported. Each test plays a hostile pod author and counts, at both gateways, the packets that
/// carry a source the runtime never saw: none may reach the main gateway, all go to the VPN. A plain pod on the
/// same bridge doing the same keeps the main path, so the marking really is per interface.
/// </summary>
public sealed class InterfaceKeyingTests
{
    private const AddressFamily V4 = AddressFamily.InterNetwork;
    private const AddressFamily V6 = AddressFamily.InterNetworkV6;

    [Fact]
    public void An_address_the_pod_adds_itself_is_steered_through_the_vpn()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var hostile = network.AddPod("addr", FwmarkPluginConfig.Annotated("vpn"));
        var plain = network.AddPod("plain");
        // What NET_ADMIN in the pod allows: another address on its own interface.
        var added = IPAddress.Parse("10.88.0.200");
        var plainAdded = IPAddress.Parse("10.88.0.201");
        hostile.Netns.Ip("addr", "add", $"{added}/32", "dev", "eth0");
        plain.Netns.Ip("addr", "add", $"{plainAdded}/32", "dev", "eth0");
        Watch(bed, added, plainAdded, hostile.IPv4);

        Datagrams.SendFrom(hostile.Netns, added, Addresses.ServerV4);
        Datagrams.SendFrom(plain.Netns, plainAdded, Addresses.ServerV4);

        AssertOnlyVia(bed, added, EgressPath.Vpn, 3);
        AssertOnlyVia(bed, plainAdded, EgressPath.Main, 3);
        bed.AssertPath(hostile, V4, EgressPath.Vpn);
        bed.AssertPath(plain, V4, EgressPath.Main);
        Assert.Equal(0, bed.Bed.Main.PacketsFrom(hostile.IPv4));
    }

    [Fact]
    public void A_forged_source_on_a_raw_socket_is_steered_through_the_vpn()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var hostile = network.AddPod("raw", FwmarkPluginConfig.Annotated("vpn"));
        var plain = network.AddPod("plain");
        // Sources no interface holds: one in the pod range, one outside every range the node knows.
        var forged = IPAddress.Parse("10.88.0.222");
        var foreign = IPAddress.Parse("10.88.77.7");
        var plainForged = IPAddress.Parse("10.88.0.223");
        Watch(bed, forged, foreign, plainForged);

        Datagrams.SendForged(hostile.Netns, forged, Addresses.ServerV4, bed.Bed.WorkDir);
        Datagrams.SendForged(hostile.Netns, foreign, Addresses.ServerV4, bed.Bed.WorkDir);
        Datagrams.SendForged(plain.Netns, plainForged, Addresses.ServerV4, bed.Bed.WorkDir);

        AssertOnlyVia(bed, forged, EgressPath.Vpn, 3);
        AssertOnlyVia(bed, foreign, EgressPath.Vpn, 3);
        AssertOnlyVia(bed, plainForged, EgressPath.Main, 3);
        bed.AssertPath(plain, V4, EgressPath.Main);
    }

    [Fact]
    public void An_ipv6_address_the_runtime_never_reported_is_steered_through_the_vpn()
    {
        // A SLAAC or privacy address is exactly this: an IPv6 address on the pod's interface outside prevResult.
        using var bed = PluginBed.Create();
        var network = bed.Network(FwmarkPluginConfig.Vpn());
        var hostile = network.AddPod("six", FwmarkPluginConfig.Annotated("vpn"));
        var plain = network.AddPod("plain");
        var extra = IPAddress.Parse("2001:db8:88:0:aaaa:bbbb:cccc:dddd");
        var plainExtra = IPAddress.Parse("2001:db8:88:0:aaaa:bbbb:cccc:eeee");
        hostile.Netns.Ip("-6", "addr", "add", $"{extra}/64", "dev", "eth0", "nodad");
        plain.Netns.Ip("-6", "addr", "add", $"{plainExtra}/64", "dev", "eth0", "nodad");
        Watch(bed, extra, plainExtra, hostile.IPv6);

        Datagrams.SendFrom(hostile.Netns, extra, Addresses.ServerV6);
        Datagrams.SendFrom(plain.Netns, plainExtra, Addresses.ServerV6);

        AssertOnlyVia(bed, extra, EgressPath.Vpn, 3);
        AssertOnlyVia(bed, plainExtra, EgressPath.Main, 3);
        bed.AssertPath(hostile, V6, EgressPath.Vpn);
        bed.AssertPath(plain, V6, EgressPath.Main);
        Assert.Equal(0, bed.Bed.Main.PacketsFrom(hostile.IPv6));
    }

    [Fact]
    public void Pods_with_the_same_ip_on_two_bridges_each_take_their_own_path_and_del_of_either_leaves_the_other()
    {
        // Two networks with the same host-local range (two Multus networks): their n-th pods get the same address.
        // Replies could not find their way back to both, so the proof is one-way datagrams, told apart at the
        // gateways by their UDP source port.
        using var bed = PluginBed.Create();
        var netA = bed.Network(FwmarkPluginConfig.Vpn(), "overlap-a");
        var netB = bed.Network(FwmarkPluginConfig.Vpn(), "overlap-b", sameRangeAs: 0);
        var marked = netA.AddPod("a", FwmarkPluginConfig.Annotated("vpn"));
        var plain = netB.AddPod("b");
        Assert.Equal(marked.IPv4, plain.IPv4);
        var first = PortCounters.Install(bed, marked.IPv4);

        first.AssertPaths(bed, (marked, EgressPath.Vpn), (plain, EgressPath.Main));

        // DEL of the unmarked one leaves the marked one marked (and CHECK still passes).
        Assert.True(netB.Del(plain).Succeeded);
        first.AssertPaths(bed, (marked, EgressPath.Vpn));
        var check = netA.Chain.RunCheck(marked.Attachment, marked.AddResult!);
        Assert.True(check.Succeeded, check.Describe());

        // The other way round, on the next shared address: DEL of the marked one leaves the unmarked one unmarked.
        var marked2 = netB.AddPod("b2", FwmarkPluginConfig.Annotated("vpn"));
        var plain2 = netA.AddPod("c");
        Assert.Equal(marked2.IPv4, plain2.IPv4);
        var second = PortCounters.Install(bed, marked2.IPv4);
        second.AssertPaths(bed, (marked2, EgressPath.Vpn), (plain2, EgressPath.Main));

        Assert.True(netB.Del(marked2).Succeeded);
        second.AssertPaths(bed, (plain2, EgressPath.Main));
        Assert.Empty(PluginBed.InterfaceElementsOf(bed.Node, marked2));
        Assert.Single(PluginBed.InterfaceElementsOf(bed.Node, marked));
        first.AssertPaths(bed, (marked, EgressPath.Vpn));
    }

    /// <summary>Counters at both gateways for datagrams from one address, per UDP source port (one port per pod).</summary>
    private sealed class PortCounters
    {
        private const int FirstPort = 41000;
        private readonly IPAddress _ip;
        private readonly string _table;
        private readonly Dictionary<string, int> _ports = [];

        private PortCounters(IPAddress ip, string table)
        {
            _ip = ip;
            _table = table;
        }

        public static PortCounters Install(PluginBed bed, IPAddress ip)
        {
            var counters = new PortCounters(ip, $"fwe_ports_{ip.GetAddressBytes()[3]}");
            foreach (var gateway in new[] { bed.Bed.Main, bed.Bed.Vpn })
            {
                var rules = string.Join('\n', Enumerable.Range(0, 4).Select(i =>
                    $"iifname \"{gateway.NodeLink}\" ip saddr {ip} udp sport {FirstPort + i} counter comment \"port {FirstPort + i}\""));
                gateway.Netns.Nft($"table inet {counters._table} {{\n chain count {{\n type filter hook prerouting priority raw; policy accept;\n{rules}\n }}\n}}\n");
            }

            return counters;
        }

        /// <summary>Each pod sends 3 datagrams from the shared address; all of each pod's reach only its expected gateway.</summary>
        public void AssertPaths(PluginBed bed, params (Pod Pod, EgressPath Via)[] pods)
        {
            var ports = pods.Select(p => _ports.TryGetValue(p.Pod.Name, out var port) ? port : _ports[p.Pod.Name] = FirstPort + _ports.Count).ToList();
            var before = ports.Select(port => Read(bed, port)).ToList();
            for (var i = 0; i < pods.Length; i++)
            {
                for (var n = 0; n < 3; n++)
                {
                    pods[i].Pod.Netns.Exec(new Fwmark.Testbed.Processes.CommandSpec(
                        "socat", "-u", "-", $"UDP4-SENDTO:{Addresses.ServerV4}:{Datagrams.Port},bind={_ip}:{ports[i]},reuseaddr")
                    { Stdin = "x" }).EnsureSuccess();
                }
            }

            for (var i = 0; i < pods.Length; i++)
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
                (long Main, long Vpn) seen;
                while (((seen = Delta(Read(bed, ports[i]), before[i])).Main + seen.Vpn) < 3 && DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(50);
                }

                var expected = pods[i].Via == EgressPath.Vpn ? (0L, 3L) : (3L, 0L);
                Assert.True(seen == expected, $"pod {pods[i].Pod.Name} ({_ip}): main gateway {seen.Main}, VPN gateway {seen.Vpn}; expected all 3 via {pods[i].Via}\n{bed.Diagnostics()}");
            }
        }

        private static (long Main, long Vpn) Delta((long Main, long Vpn) now, (long Main, long Vpn) before) => (now.Main - before.Main, now.Vpn - before.Vpn);

        private (long Main, long Vpn) Read(PluginBed bed, int port) =>
            (Fwmark.Testbed.Nftables.NftCounters.Packets(bed.Bed.Main.Netns, "inet", _table, "count", $"port {port}"),
             Fwmark.Testbed.Nftables.NftCounters.Packets(bed.Bed.Vpn.Netns, "inet", _table, "count", $"port {port}"));
    }

    private static void Watch(PluginBed bed, params IPAddress[] sources)
    {
        foreach (var source in sources)
        {
            bed.Bed.Main.Watch(source);
            bed.Bed.Vpn.Watch(source);
        }
    }

    /// <summary>Waits until <paramref name="count"/> packets from <paramref name="source"/> were counted in all, then asserts they all passed <paramref name="via"/>.</summary>
    private static void AssertOnlyVia(PluginBed bed, IPAddress source, EgressPath via, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        long main, vpn;
        while ((main = bed.Bed.Main.PacketsFrom(source)) + (vpn = bed.Bed.Vpn.PacketsFrom(source)) < count && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }

        var (expectedMain, expectedVpn) = via == EgressPath.Vpn ? (0L, (long)count) : (count, 0L);
        Assert.True(main == expectedMain && vpn == expectedVpn,
            $"packets from {source}: main gateway {main}, VPN gateway {vpn}; expected all {count} via {via}\n{bed.Diagnostics()}");
    }
}
