using Fwmark.Core;
using Fwmark.Core.Routing;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.Rtnetlink;

namespace Fwmark.Linux.Routing;

/// <summary>
/// Makes the node hold <see cref="PolicyRoutingPlan"/> for one mark, under the caller's lock, in this order:
/// 1. read table T (both families): a route of another program at the kill switch's metric is replaced
///    by the unreachable route (<see cref="ForeignRoutes"/>); the others are left and described in warnings;
/// 2. routes before rules (by the time the lookup rule exists its table already fails closed), then the
///    rules, then the route kinds the config no longer wants — all in one datagram, each answered on its own;
/// 3. always withdraw this mark's stale rules (ours, same fwmark, not in the plan). Doing it on every call,
///    not only when a rule was new, is what lets a plugin killed between adding a moved rule and
///    withdrawing the old one converge on the next call.
/// Steady-state cost: a link lookup, two route dumps of one table, one datagram answered "exists", two
/// rule dumps of a node's few tens of rules; nothing grows with the number of pods.
/// </summary>
internal static class RoutingEnsure
{
    public static List<string> Run(RtnlClient client, MarkSpec mark, RouteSpec route)
    {
        var plan = PolicyRoutingPlan.For(mark, route);
        var warnings = new List<string>();
        var device = route.Device is null ? null : client.FindLink(route.Device);

        var changes = new List<RtnlChange>();
        var foreign = new List<(RouteInfo Route, string Text)>();
        foreach (var family in PolicyRoutingPlan.Families)
        {
            foreach (var other in ForeignRoutes.In(DumpRoutes(client, family, route.Table)))
            {
                var text = ForeignRoutes.Describe(client, other);
                var unreachable = plan.Routes.FirstOrDefault(r => r.IsUnreachable && r.Family == family);
                if (unreachable is not null && other.DestinationLength == 0 && other.Metric == unreachable.Metric)
                {
                    changes.Add(new ReplaceSquatterChange(unreachable, text));
                }
                else
                {
                    foreign.Add((other, text));
                }
            }
        }

        foreach (var wanted in plan.Routes)
        {
            if (wanted.IsUnreachable)
            {
                changes.Add(new AddRouteChange(wanted));
            }
            else if (wanted.Device is null || device is not null)
            {
                changes.Add(new ReplaceRouteChange(wanted, device?.Index));
            }
        }

        changes.AddRange(plan.Rules.Select(rule => new AddRuleChange(rule)));
        changes.AddRange(plan.Withdrawn.Select(withdrawn => new WithdrawRouteChange(withdrawn)));

        var failures = new List<(RtnlChange Change, NetlinkError Answer)>();
        var withoutIPv6 = false;
        var missingDefault = new List<(TableRoute Route, string Cause)>();
        foreach (var (change, answer) in client.Apply(changes))
        {
            if (answer.IsAck)
            {
                if (change is ReplaceSquatterChange squatter)
                {
                    warnings.Add($"replaced {Rtnl.FamilyName(squatter.Family)} route \"{squatter.Squatter}\" in table {route.Table}, which fwmark did not make: it sat at the kill switch's metric, so there was no kill switch");
                }
            }
            else if (change.IsAlreadyDone(answer.Errno))
            {
                continue;
            }
            else if (change.Family == Rtnl.AF_INET6 && answer.Errno == Errno.EAFNOSUPPORT)
            {
                // A kernel booted with ipv6.disable=1: no IPv6 traffic exists that could leak.
                withoutIPv6 = true;
            }
            else if (change is ReplaceRouteChange replace)
            {
                missingDefault.Add((replace.Route, Cause(answer)));
            }
            else
            {
                failures.Add((change, answer));
            }
        }

        missingDefault.AddRange(plan.Routes.Where(w => !w.IsUnreachable && w.Device is not null && device is null)
            .Select(w => (w, $"device {w.Device} does not exist")));
        foreach (var (wanted, cause) in missingDefault)
        {
            warnings.Add(GatewayWarning(wanted, cause, route, foreign.Select(f => f.Route)));
        }

        foreach (var (other, text) in foreign.Where(f => !(withoutIPv6 && f.Route.Family == Rtnl.AF_INET6)))
        {
            var ours = missingDefault.Any(m => m.Route.Family == other.Family) ? null
                : plan.Routes.FirstOrDefault(r => !r.IsUnreachable && r.Family == other.Family)?.Metric;
            warnings.Add($"{Rtnl.FamilyName(other.Family)} table {route.Table} holds route \"{text}\" that fwmark did not make: {ForeignRoutes.Effect(other, text, ours)}");
        }

        if (withoutIPv6)
        {
            warnings.Add("IPv6 is disabled in this kernel: only IPv4 rules and routes were made");
        }

        if (failures.Count > 0)
        {
            var (first, answer) = failures[0];
            throw new DataplaneException(
                DataplaneFailure.Failed,
                $"failed to {first.Description}: {Cause(answer)}",
                string.Join('\n', failures.Select(f => $"{f.Change.Description}: {Details(f.Answer)}")));
        }

        WithdrawStaleRules(client, plan, withoutIPv6, warnings);
        return warnings;
    }

    private static List<RouteInfo> DumpRoutes(RtnlClient client, byte family, uint table)
    {
        try
        {
            return client.DumpRoutes(family, table);
        }
        catch (NetlinkException e) when (e.Errno == Errno.EAFNOSUPPORT)
        {
            return []; // no IPv6 in this kernel: nothing can be in its table
        }
    }

    private static void WithdrawStaleRules(RtnlClient client, PolicyRoutingPlan plan, bool withoutIPv6, List<string> warnings)
    {
        var stale = new List<RtnlChange>();
        foreach (var family in PolicyRoutingPlan.Families.Where(f => !(withoutIPv6 && f == Rtnl.AF_INET6)))
        {
            stale.AddRange(RoutingVerifier.StaleRules(client.DumpRules(family), plan).Select(rule => new DeleteRuleChange(rule.AsPolicyRule())));
        }

        foreach (var (change, answer) in client.Apply(stale))
        {
            if (!answer.IsAck && !change.IsAlreadyDone(answer.Errno))
            {
                warnings.Add($"failed to {change.Description} left from an earlier config: {Cause(answer)}");
            }
        }
    }

    /// <summary>What marked traffic of the route's family really does while the route is missing.</summary>
    private static string GatewayWarning(TableRoute wanted, string cause, RouteSpec route, IEnumerable<RouteInfo> foreign)
    {
        var family = Rtnl.FamilyName(wanted.Family);
        var other = foreign.Where(r => r.Family == wanted.Family && r.Type == RouteKind.Unicast && r.DestinationLength == 0)
            .OrderBy(r => r.Metric).FirstOrDefault();
        var meanwhile = other is not null
            ? $"marked {family} traffic leaves through the default route via {other.Gateway?.ToString() ?? $"interface #{other.OutputInterface}"} (metric {other.Metric}) in table {wanted.Table}, which fwmark did not make, until it can be added"
            : route.FailClosed
                ? $"marked {family} traffic is dropped by the unreachable route until it can be added"
                : $"marked {family} traffic follows the main table until it can be added (failClosed is false)";
        return $"failed to add {wanted}: {cause}; {meanwhile}: run `fwmark reconcile` when the device is up";
    }

    private static string Cause(NetlinkError answer)
    {
        var text = Errno.Describe(answer.Errno);
        return answer.Message is null ? text : $"{text} (kernel: {answer.Message})";
    }

    private static string Details(NetlinkError answer)
    {
        var text = $"{Errno.Name(answer.Errno)} ({answer.Errno})";
        return answer.Message is null ? text : $"{text}; kernel: {answer.Message}";
    }
}
