using System.Net.Sockets;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>
/// <c>connmark</c> measured on the reply path. The node does not masquerade (bridge ipMasq false) and the VPN
/// gateway routes the pod subnet back via the node's VPN uplink, so replies of a steered connection arrive on
/// that uplink while main's default points at the other one. Under strict reverse-path filtering the unmarked
/// reverse lookup then fails and the reply is dropped; with connmark the reply gets the mark back before routing
/// and, with src_valid_mark=1, the reverse lookup follows table T. IPv4: rp_filter=1 (all and the uplink).
/// IPv6 has no rp_filter: the nft equivalent firewalld uses (<c>fib saddr . mark . iif oif missing drop</c>),
/// placed after mangle as docs/routing.md requires.
/// </summary>
public sealed class ReplyPathTests
{
    private static readonly TimeSpan DroppedHandshake = TimeSpan.FromSeconds(2);

    [Theory]
    [Trait("Duration", "Long")] // the rows without connmark wait out a 2 s handshake
    [InlineData(false, AddressFamily.InterNetwork)]
    [InlineData(true, AddressFamily.InterNetwork)]
    [InlineData(false, AddressFamily.InterNetworkV6)]
    [InlineData(true, AddressFamily.InterNetworkV6)]
    public void Replies_through_the_vpn_pass_strict_reverse_path_filtering_only_with_connmark(bool connmark, AddressFamily family)
    {
        using var bed = RoutedBed.Create(connmark: connmark);
        var pod = bed.AddMarked("rp");
        var podIp = RoutedBed.AddressOf(pod, family);
        bed.Bed.Main.Watch(podIp);
        bed.Bed.Vpn.Watch(podIp);
        StrictReversePathFilter(bed);
        var ipKeyword = family == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
        bed.Node.Nft($$"""
            table inet fwe_replies {
              chain arriving {
                type filter hook prerouting priority raw; policy accept;
                iifname "{{bed.Bed.NodeVpnLink}}" {{ipKeyword}} daddr {{podIp}} counter comment "replies"
              }
            }

            """);

        var reply = bed.Ask(pod, family, DroppedHandshake);

        var replies = NftCounters.Packets(bed.Node, "inet", "fwe_replies", "arriving", "replies");
        var evidence = $"connmark={connmark} {family}: server saw {reply.Observed?.ToString() ?? "nothing"}, "
            + $"{replies} reply packets arrived on {bed.Bed.NodeVpnLink}\n{reply.Raw.Describe()}\n{bed.Diagnostics()}";
        Assert.True(bed.Bed.Vpn.PacketsFrom(podIp) > 0, $"the pod's packets did not leave through the VPN\n{evidence}");
        Assert.True(bed.Bed.Main.PacketsFrom(podIp) == 0, $"the pod's packets reached the main gateway\n{evidence}");
        // The server answered either way: what differs is only what the node does with the answer.
        Assert.True(replies > 0, $"no reply reached the node's VPN uplink: the test proves nothing\n{evidence}");
        if (connmark)
        {
            Assert.True(bed.Bed.PathOf(reply.Observed) == EgressPath.Vpn, $"with connmark the connection must work through the VPN\n{evidence}");
        }
        else
        {
            Assert.False(reply.Connected, $"without connmark the replies must be dropped by the reverse-path filter\n{evidence}");
        }
    }

    private static void StrictReversePathFilter(RoutedBed bed)
    {
        // The testbed turns rp_filter off on purpose; this node is the strict kind (effective = max(all, iif)).
        bed.Node.Sysctl(
            "net.ipv4.conf.all.rp_filter=1",
            $"net.ipv4.conf.{bed.Bed.NodeVpnLink}.rp_filter=1",
            "net.ipv4.conf.all.src_valid_mark=1");
        bed.Node.Nft("""
            table inet fwe_rpfilter6 {
              chain check {
                type filter hook prerouting priority -140; policy accept;
                meta nfproto ipv6 fib saddr . mark . iif oif missing counter drop
              }
            }

            """);
    }
}
