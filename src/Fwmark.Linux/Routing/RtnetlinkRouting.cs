using Fwmark.Core;
using Fwmark.Core.Routing;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.Rtnetlink;
using Fwmark.Linux.Session;

namespace Fwmark.Linux.Routing;

/// <summary>
/// <see cref="IRouting"/> over rtnetlink (no `ip` binary); see <see cref="PolicyRoutingPlan"/> for the
/// objects.
///
/// Ownership: the rules and the routes in the mark's table are node-wide and shared by every
/// attachment (and every network) using the mark, so they are only ever created or repaired, never
/// removed on DEL. Every object carries protocol <see cref="Protocol"/> ("proto 243" in `ip rule` /
/// `ip route`), which is how operators, doctor and this class find them again. Deletions touch only
/// objects with that protocol: routes the config no longer wants (a dropped gateway, failClosed
/// turned off) and, after a change of priority or table, this mark's old rules.
///
/// Races: Ensure holds the same flock as the nftables writes (<see cref="KernelSession.DefaultLockPath"/>).
/// Each request is idempotent on its own, but Ensure also withdraws this mark's stale rules after a
/// change of priority or table: two unlocked ADDs of networks that route one mark differently could
/// each withdraw the other's fresh rules and leave the mark with no rule at all (a leak to main).
/// Under the lock the last writer wins cleanly; the parser rejects such conflicts within one
/// conflist. Verify only reads and takes no lock.
///
/// Cost when everything is there: one interface lookup (when a device is configured) plus one
/// datagram carrying every request, answered by EEXIST/replace-in-place/ESRCH; no dump.
/// </summary>
public sealed class RtnetlinkRouting : IRouting
{
    /// <summary>
    /// rtm_protocol / FRA_PROTOCOL of every rule and route fwmark makes. Not in the kernel's or
    /// iproute2's list of assigned numbers (0-18, 42, 99, 186-192) nor used by Calico (80).
    /// </summary>
    public const byte Protocol = 243;

    private readonly KernelSession _session;

    /// <param name="netnsPath">Network namespace to program (tests); null = the current one (production).</param>
    /// <param name="lockPath">Lock shared with the nftables writes; default <see cref="KernelSession.DefaultLockPath"/>.</param>
    /// <param name="lockTimeout">How long to wait for the lock; default <see cref="KernelSession.DefaultLockTimeout"/>.</param>
    public RtnetlinkRouting(string? netnsPath = null, string? lockPath = null, TimeSpan? lockTimeout = null) =>
        _session = new KernelSession(NetlinkConstants.NETLINK_ROUTE, netnsPath, lockPath, lockTimeout);

    // The lock is released before the caller's Install takes it again: flock on a second fd would deadlock.
    public IReadOnlyList<string> Ensure(MarkSpec mark, RouteSpec route) =>
        Run($"ensure policy routing of mark {mark.Name}", client => Ensure(client, mark, route), locked: true);

    public IReadOnlyList<string> Verify(MarkSpec mark, RouteSpec route) =>
        Run($"verify policy routing of mark {mark.Name}", client => RoutingVerifier.Verify(client, PolicyRoutingPlan.For(mark, route), route));

    private static List<string> Ensure(RtnlClient client, MarkSpec mark, RouteSpec route)
    {
        var plan = PolicyRoutingPlan.For(mark, route);
        var warnings = new List<string>();
        var device = route.Device is null ? null : client.FindLink(route.Device);

        // Routes before rules: by the time the lookup rule exists its table already fails closed.
        var changes = new List<RtnlChange>();
        foreach (var wanted in plan.Routes)
        {
            if (wanted.IsUnreachable)
            {
                changes.Add(new AddRouteChange(wanted));
            }
            else if (wanted.Device is not null && device is null)
            {
                warnings.Add(GatewayWarning(wanted, $"device {wanted.Device} does not exist", route));
            }
            else
            {
                changes.Add(new ReplaceRouteChange(wanted, device?.Index));
            }
        }

        changes.AddRange(plan.Rules.Select(rule => new AddRuleChange(rule)));
        changes.AddRange(plan.Withdrawn.Select(withdrawn => new WithdrawRouteChange(withdrawn)));

        var failures = new List<(RtnlChange Change, NetlinkError Answer)>();
        var createdRule = false;
        var withoutIPv6 = false;
        foreach (var (change, answer) in client.Apply(changes))
        {
            if (answer.IsAck)
            {
                createdRule |= change is AddRuleChange;
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
                warnings.Add(GatewayWarning(replace.Route, Cause(answer), route));
            }
            else
            {
                failures.Add((change, answer));
            }
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

        // A rule was new: the config may have moved the mark to another priority or table, and the
        // old rules (same fwmark, our protocol) would still catch its traffic first. Only then is
        // a dump worth it; in the steady state every rule answers EEXIST.
        if (createdRule)
        {
            WithdrawStaleRules(client, plan, withoutIPv6, warnings);
        }

        return warnings;
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

    private static string GatewayWarning(TableRoute wanted, string cause, RouteSpec route)
    {
        var family = Rtnl.FamilyName(wanted.Family);
        var meanwhile = route.FailClosed
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

    private T Run<T>(string what, Func<RtnlClient, T> action, bool locked = false)
    {
        RtnlClient Client(NetlinkConversation socket) => new(socket, Protocol);
        return locked
            ? _session.Locked(what, socket => action(Client(socket)))
            : _session.Unlocked(what, socket => action(Client(socket)));
    }
}
