using System.Net;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>Verify names each object that is missing or left over, in `ip` syntax; Ensure repairs it.</summary>
public sealed class VerifyTests : RoutingTestBase
{
    [Fact]
    public void Everything_missing_is_listed_before_the_first_ensure()
    {
        var problems = Routing.Verify(Vpn, VpnRoute);

        Assert.Equal(
            [
                "IPv4 rule \"pref 1000 fwmark 0x10/0x10 lookup main suppress_prefixlength 0\" is missing",
                "IPv4 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" is missing",
                "IPv4 route \"unreachable default table 2184 metric 4294967295\" is missing (without it marked IPv4 traffic leaks through the main table whenever the default route is gone)",
                "IPv4 route \"default via 10.203.0.2 dev vpn0 table 2184 metric 0\" is missing",
                "IPv6 rule \"pref 1000 fwmark 0x10/0x10 lookup main suppress_prefixlength 0\" is missing",
                "IPv6 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" is missing",
                "IPv6 route \"unreachable default table 2184 metric 4294967295\" is missing (without it marked IPv6 traffic leaks through the main table whenever the default route is gone)",
                "IPv6 route \"default via 2001:db8:203::2 dev vpn0 table 2184 metric 1024\" is missing",
            ],
            problems);
    }

    [Fact]
    public void Nothing_is_reported_after_ensure()
    {
        Routing.Ensure(Vpn, VpnRoute);

        Assert.Empty(Routing.Verify(Vpn, VpnRoute));
    }

    [Fact]
    public void A_rule_deleted_behind_its_back_is_named_and_the_next_ensure_repairs_it()
    {
        Routing.Ensure(Vpn, VpnRoute);
        Node.Ip("-6", "rule", "del", "pref", "1001");

        Assert.Equal(["IPv6 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" is missing"], Routing.Verify(Vpn, VpnRoute));

        Assert.Empty(Routing.Ensure(Vpn, VpnRoute));
        Assert.Empty(Routing.Verify(Vpn, VpnRoute));
        Assert.Equal(ExpectedRules(), Node.RuleLines(ipv6: true));
    }

    [Fact]
    public void A_deleted_unreachable_route_is_named_and_repaired()
    {
        Routing.Ensure(Vpn, VpnRoute);
        Node.Ip("route", "del", "unreachable", "default", "table", Table.ToString(), "metric", "4294967295");

        Assert.Equal(
            ["IPv4 route \"unreachable default table 2184 metric 4294967295\" is missing (without it marked IPv4 traffic leaks through the main table whenever the default route is gone)"],
            Routing.Verify(Vpn, VpnRoute));

        Routing.Ensure(Vpn, VpnRoute);
        Assert.Empty(Routing.Verify(Vpn, VpnRoute));
    }

    [Fact]
    public void A_default_route_lost_with_its_device_going_down_says_so()
    {
        Routing.Ensure(Vpn, VpnRoute);
        Node.Ip("link", "set", "vpn0", "down");

        var problems = Routing.Verify(Vpn, VpnRoute);

        Assert.Equal(
            [
                "IPv4 route \"default via 10.203.0.2 dev vpn0 table 2184 metric 0\" is missing (device vpn0 is down: the kernel drops routes through a device that goes down)",
                "IPv6 route \"default via 2001:db8:203::2 dev vpn0 table 2184 metric 1024\" is missing (device vpn0 is down: the kernel drops routes through a device that goes down)",
            ],
            problems);
    }

    [Fact]
    public void A_deleted_device_is_named()
    {
        Routing.Ensure(Vpn, VpnRoute);
        Node.Ip("link", "del", "vpn0");

        var problems = Routing.Verify(Vpn, VpnRoute);

        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => Assert.EndsWith("is missing (device vpn0 does not exist)", p));
    }

    [Fact]
    public void A_different_default_route_in_the_table_is_shown_next_to_the_missing_one()
    {
        Routing.Ensure(Vpn, VpnRoute with { Gateway4 = IPAddress.Parse("10.203.0.7") });

        var problems = Routing.Verify(Vpn, VpnRoute);

        Assert.Equal(["IPv4 route \"default via 10.203.0.2 dev vpn0 table 2184 metric 0\" is missing (table 2184 has \"default via 10.203.0.7 dev vpn0 metric 0\" instead)"], problems);
    }

    [Fact]
    public void Leftover_rules_and_routes_of_an_earlier_config_are_named_with_how_to_remove_them()
    {
        Routing.Ensure(Vpn, VpnRoute);
        var moved = VpnRoute with { Priority = 3000, FailClosed = false, Gateway6 = null };

        var problems = Routing.Verify(Vpn, moved);

        Assert.Contains("IPv4 rule \"pref 1000 fwmark 0x10/0x10 lookup main suppress_prefixlength 0\" was made by fwmark but is not in the config (remove it: ip rule del pref 1000 fwmark 0x10/0x10 lookup main suppress_prefixlength 0 proto 243)", problems);
        Assert.Contains("IPv6 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" was made by fwmark but is not in the config (remove it: ip -6 rule del pref 1001 fwmark 0x10/0x10 lookup 2184 proto 243)", problems);
        Assert.Contains("IPv4 table 2184 still has a fail-closed route made by fwmark that the config no longer asks for", problems);
        Assert.Contains("IPv6 table 2184 still has a default route made by fwmark that the config no longer asks for", problems);
        Assert.Contains("IPv4 rule \"pref 3000 fwmark 0x10/0x10 lookup main suppress_prefixlength 0\" is missing", problems);

        Routing.Ensure(Vpn, moved);
        Assert.Empty(Routing.Verify(Vpn, moved));
    }

    [Fact]
    public void The_removal_command_in_a_problem_works_as_written()
    {
        Routing.Ensure(Vpn, VpnRoute);
        var moved = VpnRoute with { Priority = 3000 };
        var problem = Routing.Verify(Vpn, moved).First(p => p.Contains("remove it: ip rule del pref 1000", StringComparison.Ordinal));
        var command = problem[(problem.IndexOf("remove it: ", StringComparison.Ordinal) + "remove it: ".Length)..^1];

        Node.Exec(command.Split(' '));

        Assert.DoesNotContain(Node.RuleLines(ipv6: false), l => l.StartsWith("1000:", StringComparison.Ordinal));
        Assert.Contains(Node.RuleLines(ipv6: false), l => l.StartsWith("1001:", StringComparison.Ordinal));
    }
}
