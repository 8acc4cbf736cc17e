using Fwmark.Linux.Netlink;
using Fwmark.Linux.Routing;
using Fwmark.Linux.Rtnetlink;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The agent treats a mark's routing table as the plugin's own: a default route in it that fwmark did
/// not make (another protocol than <see cref="RtnetlinkRouting.Protocol"/>, e.g. one a VPN client or an
/// operator added while the VPN was down) would send marked traffic wherever it points, possibly the
/// main gateway. The agent deletes such routes and reports each. Only default routes: anything more
/// specific is reported, not touched. (Issue 8 item 6 makes CHECK and reconcile report these too; when
/// that lands, this sweep should follow its definition of "foreign".)
/// </summary>
internal static class ForeignRouteSweep
{
    public static List<string> Sweep(string? netnsPath, IEnumerable<uint> tables)
    {
        var report = new List<string>();
        using var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_ROUTE, netnsPath);
        var client = new RtnlClient(socket, RtnetlinkRouting.Protocol);
        var changes = new List<RtnlChange>();
        foreach (var table in tables.Distinct())
        {
            foreach (var family in PolicyRoutingPlan.Families)
            {
                List<RouteInfo> routes;
                try
                {
                    routes = client.DumpRoutes(family, table);
                }
                catch (NetlinkException e) when (e.Errno == Errno.EAFNOSUPPORT)
                {
                    continue;
                }

                foreach (var route in routes.Where(r => r.Protocol != RtnetlinkRouting.Protocol))
                {
                    if (route.IsDefault)
                    {
                        changes.Add(new DeleteForeignRouteChange(route));
                    }
                    else
                    {
                        report.Add($"table {table} holds a {Rtnl.FamilyName(family)} route (protocol {route.Protocol}) that fwmark did not make; left alone");
                    }
                }
            }
        }

        foreach (var (change, answer) in client.Apply(changes))
        {
            report.Add(answer.IsAck || answer.Errno is Errno.ESRCH or Errno.ENOENT
                ? $"deleted {change.Description[7..]}"
                : $"failed to {change.Description}: {Errno.Describe(answer.Errno)}");
        }

        return report;
    }

    /// <summary>DELROUTE of exactly one route as it was dumped: its protocol, metric, type, gateway and device.</summary>
    private sealed record DeleteForeignRouteChange(RouteInfo Route) : RtnlChange
    {
        public override byte Family => Route.Family;

        public override string Description =>
            $"delete foreign {Rtnl.FamilyName(Route.Family)} default route (protocol {Route.Protocol}, metric {Route.Metric}{(Route.Gateway is null ? "" : $", via {Route.Gateway}")}) from table {Route.Table}";

        public override void Encode(ref NetlinkWriter writer, uint sequence, byte protocol) =>
            RtnlCodec.WriteRoute(
                ref writer,
                Rtnl.RTM_DELROUTE,
                Ack,
                sequence,
                new TableRoute(Route.Family, Route.Table, Route.Type, Route.Gateway, null, Route.Metric),
                Route.Protocol,
                RouteKind.ScopeNowhere,
                Route.OutputInterface > 0 ? Route.OutputInterface : null);
    }
}
