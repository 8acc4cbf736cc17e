using System.Net;
using System.Net.Sockets;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Namespaces;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// Real packets: a "pod" namespace joined to the node namespace by a veth pair. Sockets are
/// created inside either namespace (they stay there), so the test process never moves.
/// The mark chain's counter and a probe table of our own (priority 0, after fwmark's mangle
/// chain) show which packets were marked, and with what.
/// </summary>
public class PacketMarkingTests : KernelTestBase
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(3);
    private readonly Netns _pod;

    public PacketMarkingTests()
    {
        _pod = NewNetns();
        Node.Run("ip", "link", "add", "vnode", "type", "veth", "peer", "name", "vpod", "netns", _pod.Name);
        Node.Run("ip", "addr", "add", "10.88.0.1/24", "dev", "vnode");
        Node.Run("ip", "addr", "add", "2001:db8::1/64", "dev", "vnode", "nodad");
        Node.Run("ip", "link", "set", "vnode", "up");
        // No multicast listener reports from the pod while a test counts: an interface key counts every packet of
        // vpod, and the kernel reports the solicited-node group of each address (an MLDv2 report, 96–116 bytes) when
        // the address is added and once more at a random moment within a second, or, for addresses added before
        // the carrier is up, about half a second after link-up (seen in the counter). So: no link-local address (no
        // DAD, no router solicitation, no group for it), the repeat within a millisecond, the carrier up before the
        // addresses, and the two reports gone before the test begins.
        _pod.Run("ip", "link", "set", "vpod", "addrgenmode", "none");
        _pod.Run("sysctl", "-qw", "net.ipv6.conf.vpod.mldv2_unsolicited_report_interval=1", "net.ipv6.conf.vpod.mldv1_unsolicited_report_interval=1");
        _pod.Run("ip", "link", "set", "vpod", "up");
        var carrier = DateTime.UtcNow + Patience;
        while (_pod.Run("cat", "/sys/class/net/vpod/operstate").Stdout.Trim() != "up" && DateTime.UtcNow < carrier)
        {
            Thread.Sleep(20);
        }

        _pod.Run("ip", "addr", "add", "10.88.0.5/24", "dev", "vpod");
        _pod.Run("ip", "addr", "add", "10.88.0.6/24", "dev", "vpod");
        _pod.Run("ip", "addr", "add", "2001:db8::5/64", "dev", "vpod", "nodad");
        _pod.Run("ip", "addr", "add", "2001:db8::6/64", "dev", "vpod", "nodad");

        // Permanent neighbour entries on both ends: otherwise neighbour discovery adds packets from the
        // pod's marked address (its solicitations, and its advertisement when the node resolves it to
        // send the ICMPv6 port-unreachable back), timing-dependent and more often under load, and the
        // counter sees one ICMPv6 packet more than the test sent.
        var nodeMac = Node.Run("cat", "/sys/class/net/vnode/address").Stdout.Trim();
        var podMac = _pod.Run("cat", "/sys/class/net/vpod/address").Stdout.Trim();
        _pod.Run("ip", "-6", "neigh", "replace", "2001:db8::1", "lladdr", nodeMac, "dev", "vpod", "nud", "permanent");
        _pod.Run("ip", "neigh", "replace", "10.88.0.1", "lladdr", nodeMac, "dev", "vpod", "nud", "permanent");
        foreach (var address in new[] { "2001:db8::5", "2001:db8::6", "10.88.0.5", "10.88.0.6" })
        {
            Node.Run("ip", "neigh", "replace", address, "lladdr", podMac, "dev", "vnode", "nud", "permanent");
        }

        Thread.Sleep(100); // the listener reports above: measured 8 and 20 ms after the address
    }

    [Fact]
    public void Pod_packets_are_counted_by_their_mark_chain_and_other_sources_are_not()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);

        Send(_pod, Ip("10.88.0.6"), Ip("10.88.0.1")); // not in the sets
        Send(_pod, Ip("2001:db8::6"), Ip("2001:db8::1"));
        Send(_pod, Ip("10.88.0.5"), Ip("10.88.0.1"));
        // Packets on one veth are handled in order: once the marked one is counted, the
        // unlisted ones before it have been through prerouting too.
        WaitForCounter(1);
        Send(_pod, Ip("2001:db8::5"), Ip("2001:db8::1"));
        WaitForCounter(2);

        Thread.Sleep(200);
        Assert.Equal(2, Counter());
    }

    [Fact]
    public void Each_element_counts_exactly_its_own_packets_and_bytes_as_status_reads_them()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);

        Send(_pod, Ip("10.88.0.5"), Ip("10.88.0.1"));
        Send(_pod, Ip("10.88.0.5"), Ip("10.88.0.1"));
        Send(_pod, Ip("2001:db8::5"), Ip("2001:db8::1"));
        WaitForCounter(3);

        var snapshot = new Status.KernelMarkingReader(Node.Path).Read();
        Assert.True(snapshot.Counters);
        var counters = snapshot.Elements.ToDictionary(e => e.Key, e => e.Counter);
        // One-byte UDP datagrams: 20 + 8 + 1 bytes over IPv4, 40 + 8 + 1 over IPv6 (the counter sees the IP packet).
        Assert.Equal(new Fwmark.Core.Status.ElementCounter(2, 58), counters["10.88.0.5"]);
        Assert.Equal(new Fwmark.Core.Status.ElementCounter(1, 49), counters["2001:db8::5"]);
        Assert.Equal(new Fwmark.Core.Status.ElementCounter(0, 0), counters["10.88.0.6"]);
        Assert.All(snapshot.Elements, e => Assert.Equal(Vpn.ChainName, e.Mark.ChainName));
    }

    [Fact]
    public void An_interface_key_counts_every_packet_of_its_interface_whatever_the_source_as_status_reads_it()
    {
        // vnode is the packet's input interface (the routed path); a bridge port elsewhere sees no packet.
        var routed = new Core.Paths.AttachmentPath(Core.Paths.MarkKeying.InputInterface, "vnode", "test");
        var port = new Core.Paths.AttachmentPath(Core.Paths.MarkKeying.BridgePort, "vethB", "test");
        Dataplane.InstallTarget(PodA, new Core.Paths.MarkTarget(routed, [Ip("10.88.0.5")]), Vpn);
        Dataplane.InstallTarget(PodB, new Core.Paths.MarkTarget(port, [Ip("10.88.0.6")]), Vpn);

        Send(_pod, Ip("10.88.0.5"), Ip("10.88.0.1"));
        Send(_pod, Ip("10.88.0.6"), Ip("10.88.0.1")); // another source: the interface key marks it all the same
        Send(_pod, Ip("2001:db8::5"), Ip("2001:db8::1"));
        // The bridge table has a mark chain of the same name, so wait on the element's own counter.
        var deadline = DateTime.UtcNow + Patience;
        var snapshot = new Status.KernelMarkingReader(Node.Path).Read();
        while (snapshot.Elements.Single(e => e.Key == "vnode").Counter?.Packets < 3 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
            snapshot = new Status.KernelMarkingReader(Node.Path).Read();
        }

        Thread.Sleep(200); // nothing more may come: the packets counted are exactly the ones sent
        snapshot = new Status.KernelMarkingReader(Node.Path).Read();
        Assert.True(snapshot.Counters);
        var byKey = snapshot.Elements.ToDictionary(e => e.Key);
        Assert.Equal(2, byKey.Count);
        var iface = byKey["vnode"];
        Assert.Equal((Core.Status.MarkedKeyKind.Interface, Core.Paths.MarkKeying.InputInterface, "ifaces-" + Vpn.ChainName, PodA.Tag), (iface.Kind, iface.Keying, iface.Set, iface.Comment));
        // 20 + 8 + 1 bytes twice over IPv4, 40 + 8 + 1 over IPv6.
        Assert.Equal(new Core.Status.ElementCounter(3, 107), iface.Counter);
        var bridged = byKey["vethB"];
        Assert.Equal((Core.Paths.MarkKeying.BridgePort, "ports-" + Vpn.ChainName, PodB.Tag), (bridged.Keying, bridged.Set, bridged.Comment));
        Assert.Equal(new Core.Status.ElementCounter(0, 0), bridged.Counter);
    }

    [Fact]
    public void The_mark_sets_only_the_bits_inside_the_mask()
    {
        // Before fwmark (raw priority) give every pod packet bit 0x100; after it (priority 0)
        // count packets whose mark is exactly 0x110, i.e. 0x100 kept and 0x10 added.
        Node.Run("nft", "add", "table", "inet", "probe");
        Node.Run("nft", "add", "chain", "inet", "probe", "pre", "{ type filter hook prerouting priority raw; }");
        Node.Run("nft", "add", "chain", "inet", "probe", "post", "{ type filter hook prerouting priority 0; }");
        Node.Run("nft", "add", "rule", "inet", "probe", "pre", "ip", "saddr", "10.88.0.0/24", "meta", "mark", "set", "0x100");
        Node.Run("nft", "add", "rule", "inet", "probe", "post", "meta", "mark", "0x110", "counter");
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);

        Send(_pod, Ip("10.88.0.5"), Ip("10.88.0.1"));
        WaitForCounter(1);

        Assert.Equal(1, NftJson.CounterPackets(NftOracle.Json(Node), "post"));
    }

    [Fact]
    public void Replies_of_connections_opened_to_the_pod_are_not_marked()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        using var server = Create(_pod, new IPEndPoint(Ip("10.88.0.5"), 7777));
        using var client = Create(Node, new IPEndPoint(Ip("10.88.0.1"), 0));

        client.SendTo([1], new IPEndPoint(Ip("10.88.0.5"), 7777));
        var buffer = new byte[16];
        EndPoint sender = new IPEndPoint(IPAddress.Any, 0);
        server.ReceiveFrom(buffer, ref sender);
        server.SendTo([2], sender); // the reply enters the node from the pod's address
        Assert.Equal(1, client.Receive(buffer));

        Send(_pod, Ip("10.88.0.5"), Ip("10.88.0.1")); // a connection the pod opens itself
        WaitForCounter(1);
        Assert.Equal(1, Counter());
    }

    [Fact]
    public void Untracked_pod_packets_are_marked_too()
    {
        // notrack before conntrack: the packet has no ct, the `ct direction` rule breaks and the
        // packet falls through to the set lookups (fail closed).
        Node.Run("nft", "add", "table", "inet", "probe");
        Node.Run("nft", "add", "chain", "inet", "probe", "raw", "{ type filter hook prerouting priority raw; }");
        Node.Run("nft", "add", "rule", "inet", "probe", "raw", "ip", "saddr", "10.88.0.5", "notrack");
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);

        Send(_pod, Ip("10.88.0.5"), Ip("10.88.0.1"));

        WaitForCounter(1);
    }

    [Fact]
    public void Counters_of_a_mark_chain_survive_later_installs()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Send(_pod, Ip("10.88.0.5"), Ip("10.88.0.1"));
        WaitForCounter(1);

        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);
        Dataplane.Install(new("net2", "container-c", "eth0"), [Ip("10.88.0.7")], Gw2);

        Assert.Equal(1, Counter());
        Send(_pod, Ip("10.88.0.6"), Ip("10.88.0.1"));
        WaitForCounter(2);
    }

    private long Counter() => NftJson.CounterPackets(NftOracle.Json(Node), Vpn.ChainName);

    private void WaitForCounter(long expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        long seen;
        while ((seen = Counter()) < expected && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }

        Assert.Equal(expected, seen);
    }

    /// <summary>One UDP datagram from <paramref name="from"/>, sent from inside <paramref name="netns"/>.</summary>
    private static void Send(Netns netns, IPAddress from, IPAddress to)
    {
        using var socket = Create(netns, new IPEndPoint(from, 0));
        socket.SendTo([0x66], new IPEndPoint(to, 9));
    }

    private static Socket Create(Netns netns, IPEndPoint bind) => NetworkNamespace.Run(netns.Path, () =>
    {
        var socket = new Socket(bind.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 3000 };
        socket.Bind(bind);
        return socket;
    });
}
