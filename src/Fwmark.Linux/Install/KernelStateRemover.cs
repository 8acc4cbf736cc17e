using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;
using Fwmark.Linux.Routing;
using Fwmark.Linux.Rtnetlink;
using Fwmark.Linux.Session;

namespace Fwmark.Linux.Install;

/// <summary>
/// <c>fwmark uninstall --remove-kernel-state</c>: deletes what the plugin made in the current network namespace,
/// and only that: the nftables tables <c>inet fwmark</c> and <c>bridge fwmark</c> (every mark chain, pod set and ifname set is inside them) and the
/// policy rules and routes carrying protocol <see cref="RtnetlinkRouting.Protocol"/> (rules of either family, and
/// the routes of the tables those rules pointed to). Other software's rules and routes, even in the same
/// tables, have another protocol and are left alone. Holds the plugin's lock so no ADD runs half-way through.
/// Meant for a node that no longer runs the plugin: pods that were marked lose their mark (and their
/// fail-closed route) at once.
/// </summary>
public static class KernelStateRemover
{
    /// <returns>One line per object kind removed, for the operator.</returns>
    public static IReadOnlyList<string> Remove(string? netnsPath = null, string? lockPath = null)
    {
        var report = new List<string>();
        var netfilter = new KernelSession(NetlinkConstants.NETLINK_NETFILTER, netnsPath, lockPath);
        var route = new KernelSession(NetlinkConstants.NETLINK_ROUTE, netnsPath, lockPath);

        // One lock across both protocols, so no ADD sees the table gone but its rules still there.
        netfilter.Locked("remove fwmark's nftables tables", socket =>
        {
            // Both tables in one transaction: no packet sees a bridge port marked whose inet table is gone.
            var tables = new NftTables(socket);
            var transaction = new NftTransaction(FwmarkRuleset.Table);
            var deleted = new List<NftTable>();
            if (tables.Inet.TableExists())
            {
                transaction.Add(new DeleteTableOp());
                deleted.Add(FwmarkRuleset.Table);
            }

            if (tables.Bridge.TableExists())
            {
                transaction.Add(NftTables.OnBridge(new DeleteTableOp()));
                deleted.Add(InterfaceRuleset.BridgeTable);
            }

            if (deleted.Count > 0)
            {
                transaction.Commit(socket);
                report.AddRange(deleted.Select(t => $"deleted nftables table {t}"));
            }

            route.Unlocked("remove fwmark's rules and routes", rtnl =>
            {
                RemoveRouting(new RtnlClient(rtnl, RtnetlinkRouting.Protocol), report);
                return 0;
            });
            return 0;
        });

        return report;
    }

    private static void RemoveRouting(RtnlClient client, List<string> report)
    {
        foreach (var family in PolicyRoutingPlan.Families)
        {
            var rules = client.DumpRules(family).Where(r => r.Protocol == RtnetlinkRouting.Protocol && r.Action == FibRuleAttr.ActionToTable).ToList();
            var routes = rules.Select(r => r.Table).Distinct()
                .SelectMany(table => client.DumpRoutes(family, table))
                .Where(r => r.Protocol == RtnetlinkRouting.Protocol)
                .Select(r => new WithdrawRouteChange(new TableRoute(r.Family, r.Table, r.Type, null, null, r.Metric)))
                .ToList<RtnlChange>();
            var changes = rules.Select(r => (RtnlChange)new DeleteRuleChange(r.AsPolicyRule())).Concat(routes).ToList();
            var failed = client.Apply(changes).Where(a => !a.Answer.IsAck && !a.Change.IsAlreadyDone(a.Answer.Errno)).ToList();
            if (failed.Count > 0)
            {
                throw new DataplaneException(DataplaneFailure.Failed, $"failed to {failed[0].Change.Description}: {Errno.Name(failed[0].Answer.Errno)}");
            }

            if (rules.Count + routes.Count > 0)
            {
                report.Add($"deleted {rules.Count} {Rtnl.FamilyName(family)} rules and {routes.Count} routes with proto {RtnetlinkRouting.Protocol}");
            }
        }
    }
}

/// <summary>DELTABLE of our table: removes its chains, rules and sets in the same transaction.</summary>
internal sealed record DeleteTableOp : NftOperation
{
    public override string Description => "delete table";

    public override string Render(NftTable table) => $"delete table {table}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
    {
        var message = NftMessage.Begin(ref writer, NftMessageType.DelTable, Ack, sequence, table.Family);
        writer.WriteString(TableAttr.Name, table.Name);
        writer.EndMessage(message);
    }
}
