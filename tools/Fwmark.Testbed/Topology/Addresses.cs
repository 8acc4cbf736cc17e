using System.Net;

namespace Fwmark.Testbed.Topology;

/// <summary>
/// The fixed addressing plan. Every testbed has its own namespaces, so the same plan is reused safely by
/// parallel testbeds. Documentation ranges and 10.x only.
/// <code>
///  pod ── bridge ── node ─┬─ 10.0.1.0/24, 2001:db8:1::/64 ── maingw ── 198.51.100.0/24, 2001:db8:51::/64 ─┐
///                         └─ 10.0.2.0/24, 2001:db8:2::/64 ── vpngw  ── 203.0.113.0/24,  2001:db8:203::/64 ─┴─ inet (server 192.0.2.80, 2001:db8:ff::80)
/// </code>
/// </summary>
public static class Addresses
{
    public static readonly IPAddress NodeMainV4 = IPAddress.Parse("10.0.1.2");
    public static readonly IPAddress NodeMainV6 = IPAddress.Parse("2001:db8:1::2");
    public static readonly IPAddress MainGwInnerV4 = IPAddress.Parse("10.0.1.1");
    public static readonly IPAddress MainGwInnerV6 = IPAddress.Parse("2001:db8:1::1");

    public static readonly IPAddress NodeVpnV4 = IPAddress.Parse("10.0.2.2");
    public static readonly IPAddress NodeVpnV6 = IPAddress.Parse("2001:db8:2::2");
    public static readonly IPAddress VpnGwInnerV4 = IPAddress.Parse("10.0.2.1");
    public static readonly IPAddress VpnGwInnerV6 = IPAddress.Parse("2001:db8:2::1");

    /// <summary>What the server sees for traffic that left through the main gateway (masqueraded).</summary>
    public static readonly IPAddress MainGwOuterV4 = IPAddress.Parse("198.51.100.1");
    public static readonly IPAddress MainGwOuterV6 = IPAddress.Parse("2001:db8:51::1");
    public static readonly IPAddress InetMainSideV4 = IPAddress.Parse("198.51.100.254");
    public static readonly IPAddress InetMainSideV6 = IPAddress.Parse("2001:db8:51::fe");

    /// <summary>What the server sees for traffic that left through the VPN gateway (masqueraded).</summary>
    public static readonly IPAddress VpnGwOuterV4 = IPAddress.Parse("203.0.113.1");
    public static readonly IPAddress VpnGwOuterV6 = IPAddress.Parse("2001:db8:203::1");
    public static readonly IPAddress InetVpnSideV4 = IPAddress.Parse("203.0.113.254");
    public static readonly IPAddress InetVpnSideV6 = IPAddress.Parse("2001:db8:203::fe");

    /// <summary>The echo server, reachable through either gateway.</summary>
    public static readonly IPAddress ServerV4 = IPAddress.Parse("192.0.2.80");
    public static readonly IPAddress ServerV6 = IPAddress.Parse("2001:db8:ff::80");

    /// <summary>Pod network N uses 10.88.N.0/24 and 2001:db8:88:N::/64; the gateways route all of them to the node.</summary>
    public const string PodSupernetV4 = "10.88.0.0/16";
    public const string PodSupernetV6 = "2001:db8:88::/48";

    public static string PodSubnetV4(int network) => $"10.88.{network}.0/24";

    public static string PodSubnetV6(int network) => $"2001:db8:88:{network:x}::/64";
}
