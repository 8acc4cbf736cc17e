using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Rtnetlink;

/// <summary>
/// One rtnetlink request that changes the node. Unlike nf_tables there is no transaction: the kernel
/// answers each message of a datagram on its own, so every change is written to be safe to repeat and
/// says which answers mean "already the way it should be".
/// </summary>
internal abstract record RtnlChange
{
    protected const ushort Ack = NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_ACK;

    protected const ushort CreateExclusive = Ack | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_EXCL;

    /// <summary>The family the request is about (an IPv6 request fails with EAFNOSUPPORT on a node without IPv6).</summary>
    public abstract byte Family { get; }

    /// <summary>Verb phrase for "failed to &lt;description&gt;: &lt;cause&gt;".</summary>
    public abstract string Description { get; }

    public abstract void Encode(ref NetlinkWriter writer, uint sequence, byte protocol);

    /// <summary>True when <paramref name="errno"/> means the node already holds what this change wants.</summary>
    public virtual bool IsAlreadyDone(int errno) => false;
}

/// <summary>
/// NEWRULE with NLM_F_EXCL: the kernel compares the rule's fields (priority, action, table, fwmark, mask,
/// suppress_prefixlength, protocol, interfaces, addresses) before answering EEXIST, so a similar rule (other
/// mask, other table) never hides a missing one. The one field it skips is the "not" flag: an inverted
/// twin that also carries our protocol would be taken for ours; Verify compares the flag and reports it.
/// </summary>
internal sealed record AddRuleChange(PolicyRule Rule) : RtnlChange
{
    public override byte Family => Rule.Family;

    public override string Description => $"add {Rule}";

    public override void Encode(ref NetlinkWriter writer, uint sequence, byte protocol) =>
        RtnlCodec.WriteRule(ref writer, Rtnl.RTM_NEWRULE, CreateExclusive, sequence, Rule, protocol);

    public override bool IsAlreadyDone(int errno) => errno == Errno.EEXIST;
}

/// <summary>DELRULE of a rule fwmark made (the protocol is part of the match, so hand-made rules are safe).</summary>
internal sealed record DeleteRuleChange(PolicyRule Rule) : RtnlChange
{
    public override byte Family => Rule.Family;

    public override string Description => $"delete {Rule}";

    public override void Encode(ref NetlinkWriter writer, uint sequence, byte protocol) =>
        RtnlCodec.WriteRule(ref writer, Rtnl.RTM_DELRULE, Ack, sequence, Rule, protocol);

    public override bool IsAlreadyDone(int errno) => errno == Errno.ENOENT;
}

/// <summary>
/// NEWROUTE with NLM_F_EXCL for the unreachable route: the kernel answers EEXIST when the table already
/// has a default route with the same metric, which no other route of ours uses.
/// </summary>
internal sealed record AddRouteChange(TableRoute Route) : RtnlChange
{
    public override byte Family => Route.Family;

    public override string Description => $"add {Route}";

    public override void Encode(ref NetlinkWriter writer, uint sequence, byte protocol) =>
        RtnlCodec.WriteRoute(ref writer, Rtnl.RTM_NEWROUTE, CreateExclusive, sequence, Route, protocol, RouteKind.ScopeUniverse, null);

    public override bool IsAlreadyDone(int errno) => errno == Errno.EEXIST;
}

/// <summary>
/// NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE for the real default route: replaces the route with the same
/// metric in the table, so a changed gateway or device takes effect; an identical route is left as is.
/// </summary>
internal sealed record ReplaceRouteChange(TableRoute Route, int? DeviceIndex) : RtnlChange
{
    public override byte Family => Route.Family;

    public override string Description => $"add {Route}";

    public override void Encode(ref NetlinkWriter writer, uint sequence, byte protocol)
    {
        // Without a gateway the destination is on the link itself, which is what scope link says.
        var scope = Route.Gateway is null ? RouteKind.ScopeLink : RouteKind.ScopeUniverse;
        RtnlCodec.WriteRoute(
            ref writer,
            Rtnl.RTM_NEWROUTE,
            Ack | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_REPLACE,
            sequence,
            Route,
            protocol,
            scope,
            DeviceIndex);
    }
}

/// <summary>
/// DELROUTE of a route kind fwmark made earlier, selected by table, type, metric and protocol, never by
/// gateway: whatever next hop it had, it is ours and no longer wanted. Absent is fine.
/// </summary>
internal sealed record WithdrawRouteChange(TableRoute Route) : RtnlChange
{
    public override byte Family => Route.Family;

    public override string Description => $"withdraw {Route}";

    public override void Encode(ref NetlinkWriter writer, uint sequence, byte protocol) =>
        RtnlCodec.WriteRoute(ref writer, Rtnl.RTM_DELROUTE, Ack, sequence, Route, protocol, RouteKind.ScopeNowhere, null);

    /// <summary>The kernel says ESRCH for "no such route" and for a table that does not exist.</summary>
    public override bool IsAlreadyDone(int errno) => errno is Errno.ESRCH or Errno.ENOENT;
}
