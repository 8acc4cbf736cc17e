using Fwmark.Core;
using Fwmark.Core.Routing;
using Fwmark.Linux.Rtnetlink;

namespace Fwmark.Linux.Routing;

/// <summary>
/// What the node must hold for one mark with a route, per family (IPv4 and IPv6, always both: a
/// dual-stack pod whose IPv6 is not steered leaks):
/// <code>
/// pref P   fwmark V/M lookup main suppress_prefixlength 0   # cluster, node and LAN routes still win
/// pref P+1 fwmark V/M lookup T                              # the rest goes to T
/// table T: default [via GW] [dev DEV]                       # when the family has a default route
///          unreachable default metric 4294967295            # failClosed: never fall through to main
/// </code>
/// <see cref="Withdrawn"/> are the route kinds fwmark made earlier that the config no longer wants
/// (a dropped gateway, failClosed turned off); they are deleted by protocol and metric, so routes
/// an operator added by hand are never touched. Pure: no kernel access.
/// </summary>
internal sealed record PolicyRoutingPlan(
    uint Mark,
    uint Mask,
    IReadOnlyList<PolicyRule> Rules,
    IReadOnlyList<TableRoute> Routes,
    IReadOnlyList<TableRoute> Withdrawn)
{
    public static readonly IReadOnlyList<byte> Families = [Rtnl.AF_INET, Rtnl.AF_INET6];

    public static PolicyRoutingPlan For(MarkSpec mark, RouteSpec route)
    {
        var rules = new List<PolicyRule>();
        var routes = new List<TableRoute>();
        var withdrawn = new List<TableRoute>();
        foreach (var family in Families)
        {
            var ipv6 = family == Rtnl.AF_INET6;
            rules.Add(new PolicyRule(family, route.Priority, mark.Value, mark.Mask, RouteKind.TableMain, SuppressPrefixLength: 0));
            rules.Add(new PolicyRule(family, route.Priority + 1, mark.Value, mark.Mask, route.Table, SuppressPrefixLength: null));

            var unreachable = TableRoute.Unreachable(family, route.Table);
            (route.FailClosed ? routes : withdrawn).Add(unreachable);

            if (route.HasDefaultRoute(ipv6))
            {
                routes.Add(TableRoute.Default(family, route.Table, route.GatewayFor(ipv6), route.Device));
            }
            else
            {
                withdrawn.Add(TableRoute.Default(family, route.Table, null, null));
            }
        }

        return new PolicyRoutingPlan(mark.Value, mark.Mask, rules, routes, withdrawn);
    }
}
