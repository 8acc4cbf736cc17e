using System.Net;
using Fwmark.Core;
using Fwmark.Core.Routing;
using Fwmark.Linux.Routing;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>What the plan asks the kernel for, per config shape, as `ip` syntax.</summary>
public sealed class PolicyRoutingPlanTests
{
    private static readonly MarkSpec Gw2 = new("gw2", 0x888, 0xfff);

    [Fact]
    public void A_full_route_gives_two_rules_and_two_routes_per_family()
    {
        var plan = PolicyRoutingPlan.For(Gw2, new RouteSpec
        {
            Table = 2184,
            Gateway4 = IPAddress.Parse("192.0.2.1"),
            Gateway6 = IPAddress.Parse("2001:db8::1"),
            Device = "eth1",
        });

        Assert.Equal(
            [
                "IPv4 rule \"pref 1000 fwmark 0x888/0xfff lookup main suppress_prefixlength 0\"",
                "IPv4 rule \"pref 1001 fwmark 0x888/0xfff lookup 2184\"",
                "IPv6 rule \"pref 1000 fwmark 0x888/0xfff lookup main suppress_prefixlength 0\"",
                "IPv6 rule \"pref 1001 fwmark 0x888/0xfff lookup 2184\"",
            ],
            plan.Rules.Select(r => r.ToString()));
        Assert.Equal(
            [
                "IPv4 route \"unreachable default table 2184 metric 4294967295\"",
                "IPv4 route \"default via 192.0.2.1 dev eth1 table 2184 metric 0\"",
                "IPv6 route \"unreachable default table 2184 metric 4294967295\"",
                "IPv6 route \"default via 2001:db8::1 dev eth1 table 2184 metric 1024\"",
            ],
            plan.Routes.Select(r => r.ToString()));
        Assert.Empty(plan.Withdrawn);
    }

    [Fact]
    public void A_family_without_its_own_gateway_keeps_only_the_unreachable_route_and_loses_an_old_default()
    {
        var plan = PolicyRoutingPlan.For(Gw2, new RouteSpec { Table = 2184, Gateway4 = IPAddress.Parse("192.0.2.1"), Device = "eth1" });

        Assert.Equal(
            ["unreachable default table 2184 metric 4294967295", "default via 192.0.2.1 dev eth1 table 2184 metric 0", "unreachable default table 2184 metric 4294967295"],
            plan.Routes.Select(r => r.Describe()));
        Assert.Equal(["IPv6 route \"default table 2184 metric 1024\""], plan.Withdrawn.Select(r => r.ToString()));
    }

    [Fact]
    public void A_device_alone_routes_both_families_on_link()
    {
        var plan = PolicyRoutingPlan.For(Gw2, new RouteSpec { Table = 7, Device = "wg0" });

        Assert.Equal(
            ["default dev wg0 table 7 metric 0", "default dev wg0 table 7 metric 1024"],
            plan.Routes.Where(r => !r.IsUnreachable).Select(r => r.Describe()));
    }

    [Fact]
    public void Without_failClosed_the_unreachable_routes_are_withdrawn_instead()
    {
        var plan = PolicyRoutingPlan.For(Gw2, new RouteSpec { Table = 7, FailClosed = false, Priority = 5000 });

        Assert.Empty(plan.Routes);
        Assert.Equal(
            ["IPv4 route \"unreachable default table 7 metric 4294967295\"", "IPv4 route \"default table 7 metric 0\"", "IPv6 route \"unreachable default table 7 metric 4294967295\"", "IPv6 route \"default table 7 metric 1024\""],
            plan.Withdrawn.Select(r => r.ToString()));
        Assert.Equal([5000u, 5001u, 5000u, 5001u], plan.Rules.Select(r => r.Priority));
    }
}
