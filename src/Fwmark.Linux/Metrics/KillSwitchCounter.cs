using Fwmark.Core;
using Fwmark.Linux.Agent;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Metrics;

/// <summary>
/// Counts the packets the kill switch drops, in a table of the agent's own:
/// <code>
/// table inet fwmark-metrics {                      # flags owner: goes with the agent's socket
///     chain killswitch { type filter hook prerouting priority 100; policy accept;
///         meta nfproto ipv4 meta mark &amp; M == V fib daddr type unicast fib daddr . mark oif missing counter
///         meta nfproto ipv6 ...same...             # two rules per configured mark
///     }
/// }
/// </code>
/// What a rule counts, exactly: packets entering the node (prerouting: a pod's packets, forwarded) that carry the
/// mark's bits, whose destination is a unicast address not local to the node, and for which a FIB lookup with the
/// packet's mark finds no output interface — the routing decision that follows drops them (the kill switch's
/// unreachable default route, a blackhole or prohibit route, or no route at all). Priority 100: after DNAT (−100),
/// so the lookup sees the destination the kernel will route, and after the filter hooks (0, 50), so a packet a
/// firewall dropped is not counted as a kill-switch drop. Packets the node itself sends (output) are not counted.
///
/// Only the agent makes it, and only once /metrics is first scraped (no scraper, no cost). Cost: every
/// prerouting packet runs the mark comparison (a few register operations per configured mark); packets of a mark
/// run two FIB lookups more. The table is owned (NFT_TABLE_F_OWNER) by this object's socket, so it disappears
/// with the agent; the plugin's table is untouched. The rules are re-made (counters restart at 0) when the
/// configured marks change.
/// </summary>
public sealed class KillSwitchCounter : IDisposable
{
    internal static readonly NftTable Table = new(NfNetlink.FamilyInet, "fwmark-metrics");

    private const string ChainName = "killswitch";

    private static readonly NftChain Chain = new(ChainName, new NftHook("filter", InetHook.Prerouting, 100, Verdict.Accept));

    private readonly Lock _gate = new();
    private readonly string? _netnsPath;
    private NetlinkConversation? _socket;
    private List<MarkSpec> _marks = [];

    public KillSwitchCounter(string? netnsPath = null) => _netnsPath = netnsPath;

    /// <summary>
    /// Makes the chain count exactly <paramref name="marks"/> (by value/mask), then reads every rule's counter:
    /// (value, mask, family "ipv4"/"ipv6") → packets. Throws <see cref="DataplaneException"/> when nf_tables refuses.
    /// </summary>
    public Dictionary<(uint Value, uint Mask, string Family), ulong> Read(IReadOnlyList<MarkSpec> marks)
    {
        try
        {
            return ReadLocked(marks);
        }
        catch (Exception e) when (e is not DataplaneException)
        {
            throw Session.LinuxErrors.Translate("count the packets the kill switch drops", e);
        }
    }

    private Dictionary<(uint Value, uint Mask, string Family), ulong> ReadLocked(IReadOnlyList<MarkSpec> marks)
    {
        lock (_gate)
        {
            var wanted = marks.DistinctBy(m => (m.Value, m.Mask)).OrderBy(m => m.Value).ThenBy(m => m.Mask).ToList();
            if (_socket is null || !wanted.Select(m => (m.Value, m.Mask)).SequenceEqual(_marks.Select(m => (m.Value, m.Mask))))
            {
                Rebuild(wanted);
            }

            var counts = new Dictionary<(uint, uint, string), ulong>();
            foreach (var (comment, packets) in DumpCounters())
            {
                if (Parse(comment) is { } key)
                {
                    counts[key] = packets;
                }
            }

            return counts;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _socket?.Dispose();
            _socket = null;
        }
    }

    private void Rebuild(List<MarkSpec> marks)
    {
        var transaction = new NftTransaction(Table);
        if (_socket is null)
        {
            _socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, _netnsPath);
            transaction.Add(new CreateTableOp(TableFlags.Owner));
            transaction.Add(new AddChainOp(Chain));
        }
        else
        {
            transaction.Add(new FlushChainOp(ChainName));
        }

        foreach (var mark in marks)
        {
            transaction.Add(new AddRuleOp(Rule(mark, NfNetlink.FamilyIPv4)));
            transaction.Add(new AddRuleOp(Rule(mark, NfNetlink.FamilyIPv6)));
        }

        try
        {
            transaction.Commit(_socket);
        }
        catch
        {
            // Start over next time: a fresh socket, a fresh owned table (the old one went with the old socket).
            _socket.Dispose();
            _socket = null;
            throw;
        }

        _marks = marks;
    }

    private static NftRule Rule(MarkSpec mark, byte family)
    {
        var name = family == NfNetlink.FamilyIPv6 ? "ipv6" : "ipv4";
        return new NftRule(
            ChainName,
            [
                new MetaLoad(MetaAttr.KeyNfProto, Register.R1),
                new CmpEq(Register.R1, [family]),
                new MetaLoad(MetaAttr.KeyMark, Register.R1),
                new BitwiseMaskXor(Register.R1, Register.R1, mark.Mask, 0),
                new CmpEq(Register.R1, BitConverter.GetBytes(mark.Value)),
                new FibLoad(FibAttr.ResultAddrType, FibAttr.FlagDaddr, Register.R1),
                new CmpEq(Register.R1, BitConverter.GetBytes(FibAttr.TypeUnicast)),
                new FibLoad(FibAttr.ResultOif, FibAttr.FlagDaddr | FibAttr.FlagMark | FibAttr.FlagPresent, Register.R1),
                new CmpEq(Register.R1, [0, 0, 0, 0]),
                new Counter(),
            ],
            $"meta nfproto {name} meta mark & 0x{mark.Mask:x8} == 0x{mark.Value:x8} fib daddr type unicast fib daddr . mark oif missing counter",
            $"{name} {mark.Value:x8}/{mark.Mask:x8}");
    }

    private static (uint, uint, string)? Parse(string? comment)
    {
        var parts = comment?.Split(' ', '/');
        return parts is [var family, var value, var mask]
            && uint.TryParse(value, System.Globalization.NumberStyles.AllowHexSpecifier, null, out var v)
            && uint.TryParse(mask, System.Globalization.NumberStyles.AllowHexSpecifier, null, out var m)
            ? (v, m, family)
            : null;
    }

    /// <summary>(comment, packets) of every rule of the chain, read from a rule dump (the counter's NFTA_COUNTER_PACKETS).</summary>
    private List<(string? Comment, ulong Packets)> DumpCounters() => _socket!.DumpConsistently<(string?, ulong)>(
        (ref NetlinkWriter writer, uint sequence) =>
        {
            var message = NftMessage.Begin(ref writer, NftMessageType.GetRule, NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_DUMP, sequence, Table.Family);
            writer.WriteString(RuleAttr.Table, Table.Name);
            writer.WriteString(RuleAttr.Chain, ChainName);
            writer.EndMessage(message);
        },
        (in NetlinkMessage reply, List<(string?, ulong)> into) =>
        {
            string? comment = null;
            ulong packets = 0;
            var attributes = reply.Attributes(NfNetlink.GenMsgSize);
            while (attributes.TryRead(out var attribute))
            {
                if (attribute.Type == RuleAttr.UserData)
                {
                    comment = NftUserData.ReadComment(attribute.Value);
                }
                else if (attribute.Type == RuleAttr.Expressions)
                {
                    var list = attribute.GetNested();
                    while (list.TryRead(out var item))
                    {
                        packets += CounterPackets(item.GetNested());
                    }
                }
            }

            into.Add((comment, packets));
        },
        "the killswitch counters");

    private static ulong CounterPackets(NetlinkAttributeReader expression)
    {
        var isCounter = false;
        var data = ReadOnlySpan<byte>.Empty;
        while (expression.TryRead(out var attribute))
        {
            if (attribute.Type == ExprAttr.Name)
            {
                isCounter = attribute.GetString() == "counter";
            }
            else if (attribute.Type == ExprAttr.Data)
            {
                data = attribute.Value;
            }
        }

        // Only a counter's data holds NFTA_COUNTER_PACKETS; attribute 2 of the others is something else.
        var fields = new NetlinkAttributeReader(data);
        return isCounter && fields.TryFind(CounterAttr.Packets, out var packets) ? packets.GetBigEndianU64() : 0;
    }
}
