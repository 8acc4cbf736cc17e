using System.Net;
using Fwmark.Core;
using Fwmark.Core.Routing;
using Fwmark.Linux.Routing;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>
/// One scratch "node" namespace with a VPN-like link: veth vpn0 (10.203.0.1/24, 2001:db8:203::1/64)
/// whose peer vpn0p stays in the same namespace, so gateways 10.203.0.2 / 2001:db8:203::2 are on-link.
/// <see cref="Routing"/> programs only that namespace; `ip` inside it is the oracle.
/// </summary>
public abstract class RoutingTestBase : IDisposable
{
    protected const uint Table = 2184;

    protected static readonly MarkSpec Vpn = new("vpn", 0x10, 0x10);

    protected static readonly RouteSpec VpnRoute = new()
    {
        Table = Table,
        Gateway4 = IPAddress.Parse("10.203.0.2"),
        Gateway6 = IPAddress.Parse("2001:db8:203::2"),
        Device = "vpn0",
    };

    protected RoutingTestBase()
    {
        Node = new RouteNetns();
        try
        {
            Node.Ip("link", "add", "vpn0", "type", "veth", "peer", "name", "vpn0p");
            Node.Ip("addr", "add", "10.203.0.1/24", "dev", "vpn0");
            Node.Ip("addr", "add", "2001:db8:203::1/64", "dev", "vpn0", "nodad");
            Node.Ip("link", "set", "vpn0p", "up");
            Node.Ip("link", "set", "vpn0", "up");
            Routing = new RtnetlinkRouting(Node.Path);
        }
        catch
        {
            Node.Dispose();
            throw;
        }
    }

    internal RouteNetns Node { get; }

    protected RtnetlinkRouting Routing { get; }

    protected static string[] ExpectedRules(uint priority = 1000, uint table = Table, string mark = "0x10/0x10") =>
    [
        $"{priority}: from all fwmark {mark} lookup main suppress_prefixlength 0 proto 243",
        $"{priority + 1}: from all fwmark {mark} lookup {table} proto 243",
    ];

    public void Dispose()
    {
        Node.Dispose();
        GC.SuppressFinalize(this);
    }
}
