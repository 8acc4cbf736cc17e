using Fwmark.Core.Routing;
using Fwmark.Linux.Rtnetlink;

namespace Fwmark.Linux.Routing;

/// <summary>
/// CHECK / doctor: compares the kernel's rules and the mark's table with <see cref="PolicyRoutingPlan"/>
/// and words each difference for an operator, naming the object in `ip` syntax. Read-only.
/// </summary>
internal static class RoutingVerifier
{
    public static List<string> Verify(RtnlClient client, PolicyRoutingPlan plan, RouteSpec route)
    {
        var problems = new List<string>();
        var device = route.Device is null ? null : client.FindLink(route.Device);
        foreach (var family in PolicyRoutingPlan.Families)
        {
            var rules = client.DumpRules(family);
            foreach (var wanted in plan.Rules.Where(r => r.Family == family))
            {
                if (!rules.Any(r => r.Matches(wanted)))
                {
                    problems.Add($"{wanted} is missing");
                }
            }

            foreach (var stale in StaleRules(rules, plan))
            {
                problems.Add($"{stale.AsPolicyRule()} was made by fwmark but is not in the config (remove it: {Rtnl.IpCommand(family)} rule del {stale.AsPolicyRule().Describe()} proto {RtnetlinkRouting.Protocol})");
            }

            var routes = client.DumpRoutes(family, route.Table);
            foreach (var wanted in plan.Routes.Where(r => r.Family == family))
            {
                if (!routes.Any(r => Matches(r, wanted, device)))
                {
                    problems.Add($"{wanted} is missing{Why(client, wanted, routes, device)}");
                }
            }

            foreach (var foreign in ForeignRoutes.In(routes))
            {
                var text = ForeignRoutes.Describe(client, foreign);
                var ours = plan.Routes.FirstOrDefault(r => !r.IsUnreachable && r.Family == family && routes.Any(x => Matches(x, r, device)))?.Metric;
                problems.Add($"{Rtnl.FamilyName(family)} table {route.Table} holds route \"{text}\" that fwmark did not make: {ForeignRoutes.Effect(foreign, text, ours)} (remove it: {Rtnl.IpCommand(family)} route del {ForeignRoutes.Selector(foreign)} table {route.Table})");
            }

            foreach (var withdrawn in plan.Withdrawn.Where(r => r.Family == family))
            {
                if (routes.Any(r => r.Protocol == RtnetlinkRouting.Protocol && IsKindOf(r, withdrawn)))
                {
                    problems.Add($"{Rtnl.FamilyName(family)} table {route.Table} still has a {(withdrawn.IsUnreachable ? "fail-closed" : "default")} route made by fwmark that the config no longer asks for");
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// Rules of ours (protocol, same fwmark/mask) that the plan does not want: left behind when the
    /// config moved the mark to another priority or table. They sit in front of or next to the new
    /// ones and would keep sending its traffic the old way.
    /// </summary>
    public static IEnumerable<RuleInfo> StaleRules(IEnumerable<RuleInfo> rules, PolicyRoutingPlan plan) =>
        rules.Where(r => r.Protocol == RtnetlinkRouting.Protocol
            && r.Action == FibRuleAttr.ActionToTable
            && !r.HasOtherSelectors
            && r.Mark == plan.Mark
            && r.Mask == plan.Mask
            && !plan.Rules.Any(r.Matches));

    private static bool IsKindOf(RouteInfo route, TableRoute wanted) =>
        route.IsDefault && route.Type == wanted.Type && route.Metric == wanted.Metric;

    private static bool Matches(RouteInfo route, TableRoute wanted, LinkInfo? device) =>
        IsKindOf(route, wanted)
        && Equals(route.Gateway, wanted.Gateway)
        && (wanted.Device is null || (device is not null && route.OutputInterface == device.Index));

    /// <summary>The likely reason a default route is missing, so CHECK says what to fix.</summary>
    private static string Why(RtnlClient client, TableRoute wanted, List<RouteInfo> routes, LinkInfo? device)
    {
        if (wanted.IsUnreachable)
        {
            return $" (without it marked {Rtnl.FamilyName(wanted.Family)} traffic leaks through the main table whenever the default route is gone)";
        }

        if (wanted.Device is not null && device is null)
        {
            return $" (device {wanted.Device} does not exist)";
        }

        if (device is { IsUp: false })
        {
            return $" (device {device.Name} is down: the kernel drops routes through a device that goes down)";
        }

        var other = routes.FirstOrDefault(r => IsKindOf(r, wanted));
        if (other is not null)
        {
            var via = other.Gateway is null ? "" : $" via {other.Gateway}";
            var dev = other.OutputInterface == 0 ? "" : $" dev {client.FindLink(other.OutputInterface)?.Name ?? $"#{other.OutputInterface}"}";
            return $" (table {wanted.Table} has \"default{via}{dev} metric {other.Metric}\" instead)";
        }

        return "";
    }
}
