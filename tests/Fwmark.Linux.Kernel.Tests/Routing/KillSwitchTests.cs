using System.Net.Sockets;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>
/// The kill switch with real packets: marked pod traffic leaves through vpn0 while the VPN is there,
/// and never through the main gateway once it is down, deleted, or its route is gone.
/// </summary>
public sealed class KillSwitchTests : IDisposable
{
    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    private readonly SteeringBed _bed = new();

    [Fact]
    public void Without_policy_routing_marked_traffic_takes_the_main_gateway()
    {
        // Control: proves the bed delivers and counts, so a zero below means "not sent that way".
        foreach (var family in Families)
        {
            _bed.SendFromPod(family);
            SteeringBed.WaitForArrivals(_bed.Main, family, 3);
            _bed.Flush(family);

            Assert.Equal(3, SteeringBed.Arrived(_bed.Main, family));
            Assert.Equal(0, SteeringBed.Arrived(_bed.Vpn, family));
        }
    }

    [Fact]
    public void Marked_traffic_goes_through_the_vpn_while_it_is_up()
    {
        Assert.Empty(_bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route));

        foreach (var family in Families)
        {
            var (code, decision) = _bed.RouteGet(family);
            Assert.True(code == 0, decision);
            Assert.Contains("dev vpn0", decision);
            Assert.Contains($"table {SteeringBed.Table}", decision);

            _bed.SendFromPod(family);
            SteeringBed.WaitForArrivals(_bed.Vpn, family, 3);
            _bed.Flush(family);

            Assert.Equal(3, SteeringBed.Arrived(_bed.Vpn, family));
            Assert.Equal(0, SteeringBed.Arrived(_bed.Main, family));
        }
    }

    [Fact]
    public void Marked_traffic_to_a_main_table_prefix_still_uses_the_main_table()
    {
        // suppress_prefixlength 0 only rejects main's default route: node-local and LAN prefixes win.
        _bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route);

        var (code, output, error) = _bed.Node.TryExec("ip", "route", "get", "10.202.0.2", "from", "10.201.0.2", "iif", "pod0", "mark", "0x10");

        Assert.True(code == 0, error);
        Assert.Contains("dev eth0", output);
        Assert.DoesNotContain("table", output);
    }

    [Fact]
    public void Link_down_makes_marked_traffic_unreachable_and_nothing_reaches_the_main_gateway()
    {
        _bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route);
        _bed.Vpn.Ip("link", "set", "eth0", "down");
        _bed.Node.Ip("link", "set", "vpn0", "down");

        AssertKilled();

        // Back up: the kernel flushed the route with the link, the next Ensure (a reconcile) restores it.
        // IPv6 drops static addresses with the link (keep_addr_on_down=0): the VPN client re-adds them.
        _bed.Node.Ip("link", "set", "vpn0", "up");
        _bed.Vpn.Ip("link", "set", "eth0", "up");
        _bed.Node.Ip("-6", "addr", "replace", "2001:db8:203::1/64", "dev", "vpn0", "nodad");
        _bed.Vpn.Ip("-6", "addr", "replace", "2001:db8:203::2/64", "dev", "eth0", "nodad");
        _bed.WaitForVpnPrefixes(); // what a VPN up-hook waits for before it runs `fwmark reconcile`
        Assert.Empty(_bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route));
        foreach (var family in Families)
        {
            var vpn = SteeringBed.Arrived(_bed.Vpn, family);
            _bed.SendFromPod(family);
            SteeringBed.WaitForArrivals(_bed.Vpn, family, vpn + 3);
            _bed.Flush(family);
            Assert.Equal(0, SteeringBed.Arrived(_bed.Main, family));
        }
    }

    [Fact]
    public void Link_deleted_makes_marked_traffic_unreachable_and_a_later_ensure_only_warns()
    {
        _bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route);
        _bed.Node.Ip("link", "del", "vpn0");

        AssertKilled();

        var warnings = _bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route);
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Contains("device vpn0 does not exist", w));
        AssertKilled();
    }

    [Fact]
    public void Deleting_the_tables_default_route_makes_marked_traffic_unreachable()
    {
        _bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route);
        _bed.Node.Ip("route", "del", "default", "via", "10.203.0.2", "table", SteeringBed.Table.ToString());
        _bed.Node.Ip("-6", "route", "del", "default", "via", "2001:db8:203::2", "table", SteeringBed.Table.ToString());

        AssertKilled();
    }

    [Fact]
    public void Without_failClosed_a_deleted_vpn_leaks_to_the_main_gateway()
    {
        // Control for the tests above: the same failure with failClosed off does reach gw-main, so
        // their zero counts come from the unreachable route and not from the bed.
        _bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route with { FailClosed = false });
        _bed.Node.Ip("link", "del", "vpn0");

        foreach (var family in Families)
        {
            _bed.SendFromPod(family);
            SteeringBed.WaitForArrivals(_bed.Main, family, 3);
        }
    }

    public void Dispose() => _bed.Dispose();

    private void AssertKilled()
    {
        foreach (var family in Families)
        {
            var (code, decision) = _bed.RouteGet(family);
            Assert.True(code != 0, $"expected no route for marked {family} traffic, got: {decision}");
            Assert.Contains("No route to host", decision);

            var main = SteeringBed.Arrived(_bed.Main, family);
            var vpn = SteeringBed.Arrived(_bed.Vpn, family);
            _bed.SendFromPod(family);
            _bed.Flush(family);

            Assert.Equal(main, SteeringBed.Arrived(_bed.Main, family));
            Assert.Equal(vpn, SteeringBed.Arrived(_bed.Vpn, family));
        }
    }
}
