using System.Net.Sockets;
using Fwmark.Core.Inspection;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.Routing;
using Fwmark.Linux.Rtnetlink;
using Fwmark.Linux.Session;

namespace Fwmark.Linux.Inspection;

/// <summary>
/// <see cref="INodeView"/> over rtnetlink dumps, the nf_tables generation probe and /proc/sys. Only
/// reads: no lock, no change. Sysctls come from /proc/sys, which the kernel answers for the reading
/// task's network namespace, so the caller's namespace is the one inspected.
/// </summary>
public sealed class KernelNodeView : INodeView
{
    private const byte RtnBlackhole = 6;
    private const byte RtnProhibit = 8;


    public string? NftablesProblem()
    {
        try
        {
            new NftDataplane().Probe();
            return null;
        }
        catch (Exception e)
        {
            return e.Message;
        }
    }

    public IReadOnlyList<NodeRule> Rules(AddressFamily family) => WithClient(client =>
        client.DumpRules(Code(family))
            .Select(r => new NodeRule(family, r.Priority, r.Mark, r.Mask, r.Table, r.Action == FibRuleAttr.ActionToTable, r.HasOtherSelectors, r.SuppressPrefixLength, r.Protocol))
            .OrderBy(r => r.Priority)
            .ToList());

    public IReadOnlyList<NodeRoute> Routes(AddressFamily family, uint table) => WithClient(client =>
        client.DumpRoutes(Code(family), table).Select(r => new NodeRoute(
            family,
            r.Table,
            r.DestinationLength,
            r.Type switch
            {
                RouteKind.Unicast => NodeRouteType.Unicast,
                RouteKind.Unreachable => NodeRouteType.Unreachable,
                RtnBlackhole => NodeRouteType.Blackhole,
                RtnProhibit => NodeRouteType.Prohibit,
                _ => NodeRouteType.Other,
            },
            r.OutputInterface > 0 ? client.FindLink(r.OutputInterface)?.Name : null,
            r.Metric)).ToList());

    public bool HasLink(string name) => WithClient(client => client.FindLink(name) is not null);

    public string? Sysctl(string key)
    {
        var path = "/proc/sys/" + key;
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // One socket per question (a read-only kernel session, no lock): doctor asks a few dozen, and nothing
    // has to be disposed by the caller.
    private static T WithClient<T>(Func<RtnlClient, T> action) =>
        new KernelSession(NetlinkConstants.NETLINK_ROUTE).Unlocked("inspect the routing configuration", conversation => action(new RtnlClient(conversation, RtnetlinkRouting.Protocol)));

    private static byte Code(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? Rtnl.AF_INET6 : Rtnl.AF_INET;
}
