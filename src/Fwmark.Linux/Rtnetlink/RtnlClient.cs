using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Rtnetlink;

/// <summary>
/// rtnetlink requests on one NETLINK_ROUTE socket: a list of changes sent in one datagram, the rule
/// and route dumps Verify needs, and interface lookups. Strict checking is turned on so the kernel
/// filters route dumps by table instead of sending the whole FIB.
/// </summary>
internal sealed class RtnlClient
{
    private readonly NetlinkConversation _socket;
    private readonly byte _protocol;

    public RtnlClient(NetlinkConversation socket, byte protocol)
    {
        _socket = socket;
        _protocol = protocol;
        try
        {
            _socket.Transport.SetOption(Interop.SOL_NETLINK, NetlinkConstants.NETLINK_GET_STRICT_CHK, 1);
        }
        catch (NetlinkException)
        {
            // Kernels before 4.20 lack the option (ENOPROTOOPT); DumpRoutes filters by table itself.
        }
    }

    /// <summary>
    /// Sends every change in one sendmsg and returns the kernel's answer to each (errno 0 = done). The
    /// kernel handles the messages one after the other and keeps going after a failure, so every
    /// change gets its own answer.
    /// </summary>
    public IReadOnlyList<(RtnlChange Change, NetlinkError Answer)> Apply(IReadOnlyList<RtnlChange> changes)
    {
        if (changes.Count == 0)
        {
            return [];
        }

        var writer = new NetlinkWriter(256 * changes.Count);
        var sequences = new uint[changes.Count];
        for (var i = 0; i < changes.Count; i++)
        {
            sequences[i] = _socket.NextSequence();
            changes[i].Encode(ref writer, sequences[i], _protocol);
        }

        var answers = _socket.SendBatch(writer.WrittenSpan, sequences);
        var result = new List<(RtnlChange, NetlinkError)>(changes.Count);
        for (var i = 0; i < changes.Count; i++)
        {
            result.Add((changes[i], answers.TryGetValue(sequences[i], out var answer)
                ? answer
                : new NetlinkError(Errno.EPROTO, sequences[i], "the kernel did not answer this request", null, null)));
        }

        return result;
    }

    /// <summary>Every rule of <paramref name="family"/> (a node has tens of them).</summary>
    public List<RuleInfo> DumpRules(byte family) => DumpConsistently(
        (ref NetlinkWriter writer, uint sequence) => RtnlCodec.WriteRuleDump(ref writer, family, sequence),
        (in NetlinkMessage message, List<RuleInfo> into) =>
        {
            if (message.Type == Rtnl.RTM_NEWRULE)
            {
                into.Add(RtnlCodec.ReadRule(message));
            }
        });

    /// <summary>The routes of one table; empty when the table does not exist yet.</summary>
    public List<RouteInfo> DumpRoutes(byte family, uint table) => DumpConsistently(
        (ref NetlinkWriter writer, uint sequence) => RtnlCodec.WriteRouteDump(ref writer, family, table, sequence),
        (in NetlinkMessage message, List<RouteInfo> into) =>
        {
            if (message.Type == Rtnl.RTM_NEWROUTE)
            {
                var route = RtnlCodec.ReadRoute(message);
                // Older kernels ignore the table filter; the result must not depend on that.
                if (route.Table == table && route.Family == family)
                {
                    into.Add(route);
                }
            }
        });

    /// <summary>The interface called <paramref name="name"/>, or null when there is none.</summary>
    public LinkInfo? FindLink(string name) => GetLink(name, 0);

    /// <summary>The interface with index <paramref name="index"/>, or null when there is none.</summary>
    public LinkInfo? FindLink(int index) => GetLink(null, index);

    private LinkInfo? GetLink(string? name, int index)
    {
        var writer = new NetlinkWriter(128);
        RtnlCodec.WriteLinkGet(ref writer, name, index, _socket.NextSequence());
        LinkInfo? found = null;
        try
        {
            _socket.Request(writer.WrittenSpan, (in NetlinkMessage reply) =>
            {
                if (reply.Type == Rtnl.RTM_NEWLINK)
                {
                    found = RtnlCodec.ReadLink(reply);
                }
            });
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }

        return found;
    }

    private List<T> DumpConsistently<T>(NetlinkRequestBuilder build, NetlinkReplyReader<T> read) =>
        _socket.DumpConsistently(build, read, "the routing configuration");
}
