using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Rtnetlink;

/// <summary>
/// NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE for the unreachable route: used only when another program's
/// route occupies the kill switch's metric, which makes the exclusive add answer EEXIST without
/// there being any kill switch.
/// </summary>
internal sealed record ReplaceSquatterChange(TableRoute Route, string Squatter) : RtnlChange
{
    public override byte Family => Route.Family;

    public override string Description => $"replace \"{Squatter}\" with {Route}";

    public override void Encode(ref NetlinkWriter writer, uint sequence, byte protocol) =>
        RtnlCodec.WriteRoute(ref writer, Rtnl.RTM_NEWROUTE, Ack | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_REPLACE,
            sequence, Route, protocol, RouteKind.ScopeUniverse, null);
}
