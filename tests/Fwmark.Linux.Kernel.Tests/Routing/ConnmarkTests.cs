using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Namespaces;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>
/// The connmark encoders: the kernel must hold exactly the rules their text claims (nft is the judge),
/// and with real packets they must make replies of a steered flow routable through the VPN under
/// strict reverse-path filtering, touching only the bits inside the mask.
/// </summary>
public sealed partial class ConnmarkTests
{
    private static readonly TimeSpan ReplyPatience = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData(0x10u, 0x10u)]
    [InlineData(0x888u, 0xfffu)]
    [InlineData(0x10000u, 0xff0000u)]
    public void Encoded_rules_read_back_as_nft_reads_the_same_rules_written_as_text(uint value, uint mask)
    {
        using var node = new RouteNetns();
        var mark = new MarkSpec("m", value, mask);
        var save = ConnmarkRules.Save(mark, mark.ChainName);
        var restoreChain = ConnmarkRules.RestoreChain(mark);
        var restore = Assert.Single(ConnmarkRules.RestoreRules(mark));
        node.Nft($$"""
            table inet oracle {
              chain {{mark.ChainName}} {
                {{save.Text}}
              }
              chain {{restoreChain.Name}} {
                type filter hook prerouting priority {{ConnmarkRules.RestorePriority}}; policy accept;
                {{restore.Text}}
              }
            }
            """);

        Commit(node, new NftTable(NfNetlink.FamilyInet, "mine"), transaction => transaction
            .Add(new AddTableOp())
            .Add(new AddChainOp(new NftChain(mark.ChainName)))
            .Add(new AddRuleOp(save))
            .Add(new AddChainOp(restoreChain))
            .Add(new AddRuleOp(restore)));

        var oracle = node.Exec("nft", "list", "table", "inet", "oracle");
        var mine = CommentPattern().Replace(node.Exec("nft", "list", "table", "inet", "mine"), "");
        Assert.Equal(oracle.Replace("table inet oracle", "table inet mine", StringComparison.Ordinal), mine);
        Assert.Contains("ct direction reply ct mark & ", mine); // the oracle really holds the restore rule
    }

    [Fact]
    public void With_connmark_replies_from_the_vpn_pass_strict_reverse_path_filtering_and_keep_foreign_bits()
    {
        using var bed = new SteeringBed();
        PrepareReplies(bed);
        InstallFwmarkLikeChains(bed, connmark: true);
        bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route);

        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            Assert.True(AskThroughVpn(bed, family), $"no {family} reply reached the pod");
        }

        // 0x100 was in the ct mark before the save and 0x200 in the reply's mark before the restore:
        // both must survive, next to our 0x10.
        Assert.Equal(2, bed.Node.Counter("observe", "saved"));
        Assert.Equal(2, bed.Node.Counter("observe", "restored"));
    }

    [Fact]
    public void Without_connmark_the_same_replies_are_dropped_as_martians()
    {
        // Control: the reverse-path check is what the connmark rules get the replies through.
        using var bed = new SteeringBed();
        PrepareReplies(bed);
        InstallFwmarkLikeChains(bed, connmark: false);
        bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route);

        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            Assert.False(AskThroughVpn(bed, family), $"a {family} reply reached the pod without connmark");
        }
    }

    /// <summary>
    /// The far side answers from 203.0.113.7 / 2001:db8:ff::7 (on gw-vpn's loopback) and routes back via the
    /// node. The node filters strictly: rp_filter=1 with src_valid_mark=1 for IPv4, and for IPv6 (which has
    /// no rp_filter) the nft fib check with the mark in its key, as firewalld does.
    /// </summary>
    private static void PrepareReplies(SteeringBed bed)
    {
        bed.Vpn.Ip("addr", "add", "203.0.113.7/32", "dev", "lo");
        bed.Vpn.Ip("addr", "add", "2001:db8:ff::7/128", "dev", "lo");
        bed.Vpn.Ip("route", "add", "10.201.0.0/24", "via", "10.203.0.1");
        bed.Vpn.Ip("-6", "route", "add", "2001:db8:201::/64", "via", "2001:db8:203::1");
        bed.Node.Sysctl("net.ipv4.conf.all.rp_filter", "1");
        bed.Node.Sysctl("net.ipv4.conf.vpn0.rp_filter", "1");
        bed.Node.Sysctl("net.ipv4.conf.all.src_valid_mark", "1");
        bed.Node.Nft("""
            table inet rpf {
              chain pre {
                type filter hook prerouting priority -140; policy accept;
                meta nfproto ipv6 fib saddr . mark . iif oif missing drop
              }
            }
            table inet observe {
              counter saved { }
              counter restored { }
              chain before {
                type filter hook prerouting priority -160; policy accept;
                ct direction original ct mark set ct mark | 0x100
                ct direction reply meta mark set meta mark | 0x200
              }
              chain after {
                type filter hook prerouting priority -145; policy accept;
                ct direction original ct mark 0x00000110 counter name "saved"
                ct direction reply meta mark 0x00000210 counter name "restored"
              }
            }
            """);
    }

    /// <summary>
    /// The plugin's layout around the code under test: a prerouting chain that leaves replies alone and
    /// sends the pod to its mark chain. The save rule and the restore chain come from the encoders.
    /// </summary>
    private static void InstallFwmarkLikeChains(SteeringBed bed, bool connmark)
    {
        var mark = SteeringBed.Mark;
        bed.Node.Nft($$"""
            table inet fwrconn {
              chain prerouting {
                type filter hook prerouting priority mangle; policy accept;
                ct direction reply return
                ip saddr 10.201.0.2 goto {{mark.ChainName}}
                ip6 saddr 2001:db8:201::2 goto {{mark.ChainName}}
              }
              chain {{mark.ChainName}} {
                meta mark set meta mark & 0xffffffef | 0x00000010
              }
            }
            """);
        if (connmark)
        {
            Commit(bed.Node, new NftTable(NfNetlink.FamilyInet, "fwrconn"), transaction =>
            {
                transaction.Add(new AddRuleOp(ConnmarkRules.Save(mark, mark.ChainName)));
                transaction.Add(new AddChainOp(ConnmarkRules.RestoreChain(mark)));
                foreach (var rule in ConnmarkRules.RestoreRules(mark))
                {
                    transaction.Add(new AddRuleOp(rule));
                }
            });
        }
    }

    /// <summary>One UDP request from the pod to the far side through the VPN; true when the answer came back.</summary>
    private static bool AskThroughVpn(SteeringBed bed, AddressFamily family)
    {
        var remote = new IPEndPoint(SteeringBed.RemoteOf(family), 9999);
        using var server = NetworkNamespace.Run(bed.Vpn.Path, () => new Socket(family, SocketType.Dgram, ProtocolType.Udp));
        server.Bind(remote);
        server.ReceiveTimeout = (int)ReplyPatience.TotalMilliseconds;
        using var client = NetworkNamespace.Run(bed.Pod.Path, () => new Socket(family, SocketType.Dgram, ProtocolType.Udp));
        client.Bind(new IPEndPoint(family == AddressFamily.InterNetworkV6 ? SteeringBed.Pod6 : SteeringBed.Pod4, 0));
        client.ReceiveTimeout = (int)ReplyPatience.TotalMilliseconds;

        client.SendTo([1], remote);
        var buffer = new byte[16];
        EndPoint sender = new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        server.ReceiveFrom(buffer, ref sender); // the request must get there either way
        server.SendTo([2], sender);
        try
        {
            return client.Receive(buffer) == 1 && buffer[0] == 2;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            return false;
        }
    }

    private static void Commit(RouteNetns ns, NftTable table, Action<NftTransaction> build)
    {
        var transaction = new NftTransaction(table);
        build(transaction);
        using var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, ns.Path);
        transaction.Commit(socket);
    }

    [GeneratedRegex(@" comment ""[^""]*""")]
    private static partial Regex CommentPattern();
}
