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

    private static List<string> Ensure(RtnlClient client, MarkSpec mark, RouteSpec route) => RoutingEnsure.Run(client, mark, route);

    private T Run<T>(string what, Func<RtnlClient, T> action, bool locked = false)
    {
        RtnlClient Client(NetlinkConversation socket) => new(socket, Protocol);
        return locked
            ? _session.Locked(what, socket => action(Client(socket)))
            : _session.Unlocked(what, socket => action(Client(socket)));
    }
}
