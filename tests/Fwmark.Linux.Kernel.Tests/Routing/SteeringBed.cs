using System.Net;
using System.Net.Sockets;
using Fwmark.Core;
using Fwmark.Core.Routing;
using Fwmark.Linux.Namespaces;
using Fwmark.Linux.Routing;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>
/// Four namespaces and real packets:
/// <code>
///  pod (10.201.0.2, 2001:db8:201::2)
///   └ eth0 ── pod0  node ── eth0 ── gw-main (10.202.0.2, 2001:db8:202::2)   main table default
///                        └─ vpn0 ── gw-vpn  (10.203.0.2, 2001:db8:203::2)   table 2184 default
/// </code>
/// The node marks the pod's packets (0x10/0x10) with an nft rule of its own, standing in for the
/// plugin's dataplane, and forwards them. Each gateway counts the pod's packets in raw prerouting,
/// before any routing decision of its own, so a count there proves which link the node chose.
/// Destinations 203.0.113.7 / 2001:db8:ff::7 are routed nowhere beyond the gateways. The pod's second
/// address (10.201.0.3, 2001:db8:201::3) is never marked: see <see cref="Flush"/>.
/// </summary>
internal sealed class SteeringBed : IDisposable
{
    public const uint Table = 2184;

    public static readonly MarkSpec Mark = new("vpn", 0x10, 0x10);

    public static readonly IPAddress Pod4 = IPAddress.Parse("10.201.0.2");
    public static readonly IPAddress Pod6 = IPAddress.Parse("2001:db8:201::2");
    public static readonly IPAddress Sentinel4 = IPAddress.Parse("10.201.0.3");
    public static readonly IPAddress Sentinel6 = IPAddress.Parse("2001:db8:201::3");
    public static readonly IPAddress Remote4 = IPAddress.Parse("203.0.113.7");
    public static readonly IPAddress Remote6 = IPAddress.Parse("2001:db8:ff::7");

    public static readonly RouteSpec Route = new()
    {
        Table = Table,
        Gateway4 = IPAddress.Parse("10.203.0.2"),
        Gateway6 = IPAddress.Parse("2001:db8:203::2"),
        Device = "vpn0",
    };

    private readonly CleanupStack _scratch = new();

    public SteeringBed()
    {
        try
        {
            Node = Add("node");
            Pod = Add("pod");
            Main = Add("gwm");
            Vpn = Add("gwv");
            Link(Pod, "eth0", "10.201.0.2/24", "2001:db8:201::2/64", Node, "pod0", "10.201.0.1/24", "2001:db8:201::1/64");
            Link(Node, "eth0", "10.202.0.1/24", "2001:db8:202::1/64", Main, "eth0", "10.202.0.2/24", "2001:db8:202::2/64");
            Link(Node, "vpn0", "10.203.0.1/24", "2001:db8:203::1/64", Vpn, "eth0", "10.203.0.2/24", "2001:db8:203::2/64");
            Pod.Ip("addr", "add", "10.201.0.3/24", "dev", "eth0");
            Pod.Ip("addr", "add", "2001:db8:201::3/64", "dev", "eth0", "nodad");
            Pod.Ip("route", "add", "default", "via", "10.201.0.1");
            Pod.Ip("-6", "route", "add", "default", "via", "2001:db8:201::1");
            Node.Ip("route", "add", "default", "via", "10.202.0.2");
            Node.Ip("-6", "route", "add", "default", "via", "2001:db8:202::2");
            Node.Sysctl("net.ipv4.ip_forward=1");
            Node.Sysctl("net.ipv6.conf.all.forwarding=1");
            Node.Nft("""
                table inet steer {
                  counter marked4 { }
                  counter marked6 { }
                  chain pre {
                    type filter hook prerouting priority mangle; policy accept;
                    ip saddr 10.201.0.2 meta mark set meta mark | 0x10 counter name "marked4"
                    ip6 saddr 2001:db8:201::2 meta mark set meta mark | 0x10 counter name "marked6"
                  }
                }
                """);
            foreach (var gateway in new[] { Main, Vpn })
            {
                gateway.Nft("""
                    table inet count {
                      counter from4 { }
                      counter from6 { }
                      counter sentinel4 { }
                      counter sentinel6 { }
                      chain pre {
                        type filter hook prerouting priority raw; policy accept;
                        ip saddr 10.201.0.2 counter name "from4"
                        ip6 saddr 2001:db8:201::2 counter name "from6"
                        ip saddr 10.201.0.3 counter name "sentinel4"
                        ip6 saddr 2001:db8:201::3 counter name "sentinel6"
                      }
                    }
                    """);
            }

            Routing = new RtnetlinkRouting(Node.Path, Node.LockPath);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public Netns Node { get; } = null!;

    public Netns Pod { get; } = null!;

    public Netns Main { get; } = null!;

    public Netns Vpn { get; } = null!;

    public RtnetlinkRouting Routing { get; } = null!;

    public static IPAddress RemoteOf(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? Remote6 : Remote4;

    /// <summary>Packets from the pod counted at <paramref name="gateway"/> for one family.</summary>
    public static long Arrived(Netns gateway, AddressFamily family) =>
        NftCounters.Named(gateway, "inet", "count", family == AddressFamily.InterNetworkV6 ? "from6" : "from4");

    /// <summary>Pod packets the node has marked (i.e. that reached the node's prerouting).</summary>
    public long Marked(AddressFamily family) =>
        NftCounters.Named(Node, "inet", "steer", family == AddressFamily.InterNetworkV6 ? "marked6" : "marked4");

    /// <summary>Sends <paramref name="count"/> UDP datagrams from the pod's marked address and waits until the node has seen them.</summary>
    public void SendFromPod(AddressFamily family, int count = 3)
    {
        var before = Marked(family);
        Send(family, family == AddressFamily.InterNetworkV6 ? Pod6 : Pod4, count);
        WaitFor(() => Marked(family) >= before + count, $"the node to see {count} {family} packets from the pod");
    }

    /// <summary>Waits until <paramref name="gateway"/> has counted <paramref name="expected"/> packets from the pod.</summary>
    public static void WaitForArrivals(Netns gateway, AddressFamily family, long expected) =>
        WaitFor(() => Arrived(gateway, family) >= expected, $"{expected} {family} packets from the pod at {gateway.Name}");

    /// <summary>
    /// Sends one datagram from the pod's unmarked address (it always leaves through gw-main) and waits
    /// for it there. Packets travel the same veth and the node's backlog in order, so once it has
    /// arrived every pod packet sent before it has been forwarded or dropped: a count taken now is final.
    /// </summary>
    public void Flush(AddressFamily family)
    {
        var counter = family == AddressFamily.InterNetworkV6 ? "sentinel6" : "sentinel4";
        var before = NftCounters.Named(Main, "inet", "count", counter);
        Send(family, family == AddressFamily.InterNetworkV6 ? Sentinel6 : Sentinel4, 1);
        WaitFor(() => NftCounters.Named(Main, "inet", "count", counter) > before, $"the {family} sentinel packet at gw-main");
    }

    /// <summary>After vpn0 comes back up, waits until both of its connected prefixes are routable again.</summary>
    public void WaitForVpnPrefixes() => WaitFor(
        () => Node.Run("ip", "route", "show", "10.203.0.0/24", "dev", "vpn0").Stdout.Length > 0
            && Node.Run("ip", "-6", "route", "show", "2001:db8:203::/64", "dev", "vpn0").Stdout.Length > 0,
        "the connected routes of vpn0");

    /// <summary>`ip [-6] route get DST from POD iif pod0 mark 0x10` in the node: the forwarding decision for a marked pod packet.</summary>
    public (int Code, string Output) RouteGet(AddressFamily family)
    {
        var v6 = family == AddressFamily.InterNetworkV6;
        var (_, code, output, error, _) = Node.Exec(
            "ip",
            [
                .. v6 ? new[] { "-6" } : [], "route", "get", RemoteOf(family).ToString(),
                "from", (v6 ? Pod6 : Pod4).ToString(), "iif", "pod0", "mark", "0x10",
            ]);
        return (code, (output + error).Trim());
    }

    public void Dispose() => _scratch.Dispose();

    private void Send(AddressFamily family, IPAddress source, int count)
    {
        using var socket = NetworkNamespace.Run(Pod.Path, () => new Socket(family, SocketType.Dgram, ProtocolType.Udp));
        socket.Bind(new IPEndPoint(source, 0));
        for (var i = 0; i < count; i++)
        {
            socket.SendTo([(byte)i], new IPEndPoint(RemoteOf(family), 9));
        }
    }

    private static void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }

            Thread.Sleep(20);
        }
    }

    private Netns Add(string role) => Netns.CreateRouter($"fwr-{role}", _scratch);

    private static void Link(Netns a, string nameA, string ip4A, string ip6A, Netns b, string nameB, string ip4B, string ip6B)
    {
        // Created inside a (never in the host) with a temporary peer name, then moved into b.
        var temporary = $"t{Guid.NewGuid():N}"[..12];
        a.Ip("link", "add", nameA, "type", "veth", "peer", "name", temporary);
        a.Ip("link", "set", temporary, "netns", b.Name);
        b.Ip("link", "set", temporary, "name", nameB);
        a.Ip("addr", "add", ip4A, "dev", nameA);
        a.Ip("addr", "add", ip6A, "dev", nameA, "nodad");
        b.Ip("addr", "add", ip4B, "dev", nameB);
        b.Ip("addr", "add", ip6B, "dev", nameB, "nodad");
        a.Ip("link", "set", nameA, "up");
        b.Ip("link", "set", nameB, "up");
    }
}
