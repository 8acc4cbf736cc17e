using System.Net;
using System.Net.Sockets;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Nftables;

namespace Fwmark.Testbed.Topology;

/// <summary>
/// One uplink of the node: a namespace that forwards the node's traffic toward "inet" and masquerades it to
/// its own outer address, so the server can tell which gateway a connection came through. It also counts
/// packets from chosen sources as they arrive from the node (before NAT), to prove what did *not* pass here.
/// </summary>
public sealed class Gateway
{
    private const string WatchTable = "fwe_watch";
    private const string WatchChain = "from_node";

    internal Gateway(EgressPath path, Netns netns, string nodeLink, IPAddress outerV4, IPAddress outerV6)
    {
        Path = path;
        Netns = netns;
        NodeLink = nodeLink;
        OuterV4 = outerV4;
        OuterV6 = outerV6;
    }

    public EgressPath Path { get; }

    public Netns Netns { get; }

    /// <summary>This gateway's end of the veth to the node.</summary>
    public string NodeLink { get; }

    public IPAddress OuterV4 { get; }

    public IPAddress OuterV6 { get; }

    /// <summary>Starts counting packets from <paramref name="source"/> arriving from the node.</summary>
    public void Watch(IPAddress source)
    {
        var family = source.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
        Netns.Nft($"add rule inet {WatchTable} {WatchChain} iifname \"{NodeLink}\" {family} saddr {source} counter comment \"{source}\"\n");
    }

    /// <summary>Packets from <paramref name="source"/> seen since <see cref="Watch"/>.</summary>
    public long PacketsFrom(IPAddress source) => NftCounters.Packets(Netns, "inet", WatchTable, WatchChain, source.ToString());

    /// <summary>Addresses both links, routes pods back to the node and everything else to inet, masquerades toward inet.</summary>
    internal void Configure((IPAddress V4, IPAddress V6) inner, (IPAddress V4, IPAddress V6) node, string outerLink, (IPAddress V4, IPAddress V6) inet)
    {
        Netns.Ip("addr", "add", $"{inner.V4}/24", "dev", NodeLink);
        Netns.Ip("addr", "add", $"{inner.V6}/64", "dev", NodeLink, "nodad");
        Netns.Ip("addr", "add", $"{OuterV4}/24", "dev", outerLink);
        Netns.Ip("addr", "add", $"{OuterV6}/64", "dev", outerLink, "nodad");
        Netns.Ip("link", "set", NodeLink, "up");
        Netns.Ip("link", "set", outerLink, "up");
        Netns.Ip("route", "add", "default", "via", inet.V4.ToString());
        Netns.Ip("-6", "route", "add", "default", "via", inet.V6.ToString());
        Netns.Ip("route", "add", Addresses.PodSupernetV4, "via", node.V4.ToString());
        Netns.Ip("-6", "route", "add", Addresses.PodSupernetV6, "via", node.V6.ToString());
        Netns.Nft($$"""
            table inet fwe_nat {
              chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                oifname "{{outerLink}}" masquerade
              }
            }
            table inet {{WatchTable}} {
              chain {{WatchChain}} {
                type filter hook prerouting priority raw; policy accept;
              }
            }

            """);
    }
}
