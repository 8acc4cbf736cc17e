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
    // The same mark, table and VPN link as the packet tests' SteeringBed (vpn0, gateways 10.203.0.2 / 2001:db8:203::2).
    protected const uint Table = SteeringBed.Table;

    protected static readonly MarkSpec Vpn = SteeringBed.Mark;

    protected static readonly RouteSpec VpnRoute = SteeringBed.Route;

    private readonly CleanupStack _scratch = new();

    protected RoutingTestBase()
    {
        try
        {
            Node = Netns.CreateRouter("fwr-node", _scratch);
            Node.Ip("link", "add", "vpn0", "type", "veth", "peer", "name", "vpn0p");
            Node.Ip("addr", "add", "10.203.0.1/24", "dev", "vpn0");
            Node.Ip("addr", "add", "2001:db8:203::1/64", "dev", "vpn0", "nodad");
            Node.Ip("link", "set", "vpn0p", "up");
            Node.Ip("link", "set", "vpn0", "up");
            Routing = new RtnetlinkRouting(Node.Path, Node.LockPath);
        }
        catch
        {
            _scratch.Dispose();
            throw;
        }
    }

    internal Netns Node { get; }

    protected RtnetlinkRouting Routing { get; }

    protected static string[] ExpectedRules(uint priority = 1000, uint table = Table, string mark = "0x10/0x10") =>
    [
        $"{priority}: from all fwmark {mark} lookup main suppress_prefixlength 0 proto 243",
        $"{priority + 1}: from all fwmark {mark} lookup {table} proto 243",
    ];

    public void Dispose()
    {
        _scratch.Dispose();
        GC.SuppressFinalize(this);
    }
}
