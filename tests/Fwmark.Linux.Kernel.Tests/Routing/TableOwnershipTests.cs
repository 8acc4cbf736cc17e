using System.Net.Sockets;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>
/// The mark's table holds routes another program made (issue 8's findings): the kill switch is in
/// place even when such a route sits at its metric, CHECK reports them, ADD's warnings say what they
/// really do to traffic (proved with packets counted at the gateways), and a plugin killed halfway
/// through moving its rules converges on the next call.
/// </summary>
public sealed class TableOwnershipTests : IDisposable
{
    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    private static readonly string Table = SteeringBed.Table.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private readonly SteeringBed _bed = new();

    [Fact]
    public void A_foreign_route_at_the_kill_switch_metric_is_replaced_and_the_vpn_going_away_leaks_nothing()
    {
        _bed.Node.Ip("route", "add", "default", "via", "10.202.0.2", "table", Table, "metric", "4294967295");
        _bed.Node.Ip("-6", "route", "add", "default", "via", "2001:db8:202::2", "table", Table, "metric", "4294967295");

        var warnings = _bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route);

        Assert.Equal(2, warnings.Count(w => w.Contains("at the kill switch's metric, so there was no kill switch", StringComparison.Ordinal)));
        Assert.Contains("unreachable default proto 243 metric 4294967295", _bed.Node.TableLines(ipv6: false, SteeringBed.Table));
        Assert.Empty(_bed.Routing.Verify(SteeringBed.Mark, SteeringBed.Route));
        _bed.Node.Ip("link", "del", "vpn0");
        foreach (var family in Families)
        {
            var main = SteeringBed.Arrived(_bed.Main, family);
            _bed.SendFromPod(family);
            _bed.Flush(family);
            Assert.Equal(main, SteeringBed.Arrived(_bed.Main, family));
        }
    }

    [Fact]
    public void A_foreign_default_route_is_reported_and_the_warning_says_where_marked_traffic_really_goes()
    {
        Assert.Empty(_bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route));
        // Behind fwmark's own default routes (IPv4 metric 0, IPv6 1024): harmless until the VPN goes away.
        _bed.Node.Ip("route", "add", "default", "via", "10.202.0.2", "table", Table, "metric", "5");
        _bed.Node.Ip("-6", "route", "add", "default", "via", "2001:db8:202::2", "table", Table, "metric", "2000");

        var problems = _bed.Routing.Verify(SteeringBed.Mark, SteeringBed.Route);
        Assert.Contains(problems, p => p.StartsWith($"IPv4 table {Table} holds route \"default via 10.202.0.2 dev eth0 metric 5 proto boot\" that fwmark did not make: marked IPv4 traffic leaves through it instead of being dropped whenever fwmark's default route is gone", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith($"IPv6 table {Table} holds route \"default via 2001:db8:202::2 dev eth0 metric 2000", StringComparison.Ordinal));

        _bed.Node.Ip("link", "del", "vpn0");
        var warnings = _bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route);

        // Not "dropped by the unreachable route": the packets below reach the main gateway.
        Assert.Contains(warnings, w => w.Contains("device vpn0 does not exist; marked IPv4 traffic leaves through the default route via 10.202.0.2 (metric 5)", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("device vpn0 does not exist; marked IPv6 traffic leaves through the default route via 2001:db8:202::2 (metric 2000)", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.Contains("dropped", StringComparison.Ordinal));
        foreach (var family in Families)
        {
            _bed.SendFromPod(family);
            SteeringBed.WaitForArrivals(_bed.Main, family, 3);
        }
    }

    [Fact]
    public void Rules_left_by_a_plugin_killed_while_moving_the_mark_are_withdrawn_by_the_next_call()
    {
        Assert.Empty(_bed.Routing.Ensure(SteeringBed.Mark, SteeringBed.Route));
        // The config moves the mark to priority 2000 and table 3000; the plugin added the new rules
        // and was killed before withdrawing the old ones, which still sit in front of them.
        var moved = SteeringBed.Route with { Priority = 2000, Table = 3000 };
        foreach (var family in new[] { "-4", "-6" })
        {
            _bed.Node.Ip(family, "rule", "add", "pref", "2000", "fwmark", "0x10/0x10", "lookup", "main", "suppress_prefixlength", "0", "proto", "243");
            _bed.Node.Ip(family, "rule", "add", "pref", "2001", "fwmark", "0x10/0x10", "lookup", "3000", "proto", "243");
        }

        Assert.Contains(_bed.Routing.Verify(SteeringBed.Mark, moved), p => p.Contains("was made by fwmark but is not in the config", StringComparison.Ordinal));

        Assert.Empty(_bed.Routing.Ensure(SteeringBed.Mark, moved));

        foreach (var ipv6 in new[] { false, true })
        {
            Assert.Equal(
                ["2000: from all fwmark 0x10/0x10 lookup main suppress_prefixlength 0 proto 243", "2001: from all fwmark 0x10/0x10 lookup 3000 proto 243"],
                _bed.Node.RuleLines(ipv6));
        }

        Assert.Empty(_bed.Routing.Verify(SteeringBed.Mark, moved));
    }

    public void Dispose() => _bed.Dispose();
}
