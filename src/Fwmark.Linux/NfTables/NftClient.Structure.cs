using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>The reads behind drift detection: table flags, chain hooks and set types, not just names.</summary>
internal sealed partial class NftClient
{
    /// <summary>Table flags, chains, sets and rules of our table (a handful of objects whatever the pod count).</summary>
    public NftTableSnapshot ReadStructure()
    {
        var flags = GetTableFlags();
        return flags is null
            ? new NftTableSnapshot(null, [], [], [])
            : new NftTableSnapshot(flags, DumpChains(), DumpSets(), DumpRules());
    }

    /// <summary>NFT_MSG_GETTABLE for our table: its flags, or null when it does not exist.</summary>
    public uint? GetTableFlags()
    {
        var writer = new NetlinkWriter(128);
        var message = NftMessage.Begin(ref writer, NftMessageType.GetTable, Ack, socket.NextSequence(), Table.Family);
        writer.WriteString(TableAttr.Name, Table.Name);
        writer.EndMessage(message);
        uint flags = 0;
        try
        {
            socket.Request(writer.WrittenSpan, (in NetlinkMessage reply) =>
            {
                if (reply.Attributes(NfNetlink.GenMsgSize).TryFind(TableAttr.Flags, out var value))
                {
                    flags = value.GetBigEndianU32();
                }
            });
            return flags;
        }
        catch (NetlinkException e) when (e.IsNotFound)
        {
            return null;
        }
        catch (NetlinkException e)
        {
            throw new NftException($"read table {Table}", e);
        }
    }

    public List<NftChainInfo> DumpChains() => DumpConsistently(
        $"list chains of table {Table}",
        (ref NetlinkWriter writer, uint sequence) =>
        {
            var message = NftMessage.Begin(ref writer, NftMessageType.GetChain, DumpFlags, sequence, Table.Family);
            writer.WriteString(ChainAttr.Table, Table.Name);
            writer.EndMessage(message);
        },
        // The kernel does not filter a chain dump by table: every inet chain comes back (the agent's guard
        // table has a "prerouting" too), so keep only ours.
        (in NetlinkMessage reply, List<NftChainInfo> into) =>
        {
            if (IsOurs(reply, ChainAttr.Table))
            {
                into.Add(ReadChain(reply));
            }
        });

    public List<NftSetInfo> DumpSets() => DumpConsistently(
        $"list sets of table {Table}",
        (ref NetlinkWriter writer, uint sequence) =>
        {
            var message = NftMessage.Begin(ref writer, NftMessageType.GetSet, DumpFlags, sequence, Table.Family);
            writer.WriteString(SetAttr.Table, Table.Name);
            writer.EndMessage(message);
        },
        (in NetlinkMessage reply, List<NftSetInfo> into) =>
        {
            if (IsOurs(reply, SetAttr.Table))
            {
                into.Add(ReadSet(reply));
            }
        });

    /// <summary>Whether a dumped object belongs to <see cref="Table"/> (its table attribute names it).</summary>
    private bool IsOurs(in NetlinkMessage reply, ushort tableAttribute)
    {
        var attributes = reply.Attributes(NfNetlink.GenMsgSize);
        return !attributes.TryFind(tableAttribute, out var table) || table.GetString() == Table.Name;
    }

    private static NftChainInfo ReadChain(in NetlinkMessage reply)
    {
        var attributes = reply.Attributes(NfNetlink.GenMsgSize);
        string? name = null, type = null;
        uint? number = null, policy = null;
        var priority = 0;
        uint flags = 0;
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case ChainAttr.Name:
                    name = attribute.GetString();
                    break;
                case ChainAttr.Type:
                    type = attribute.GetString();
                    break;
                case ChainAttr.Policy:
                    policy = attribute.GetBigEndianU32();
                    break;
                case ChainAttr.Flags:
                    flags = attribute.GetBigEndianU32();
                    break;
                case ChainAttr.Hook:
                    var hook = attribute.GetNested();
                    while (hook.TryRead(out var part))
                    {
                        if (part.Type == HookAttr.Num)
                        {
                            number = part.GetBigEndianU32();
                        }
                        else if (part.Type == HookAttr.Priority)
                        {
                            priority = unchecked((int)part.GetBigEndianU32());
                        }
                    }

                    break;
            }
        }

        // A chain the kernel reports with a hook is a base chain; type and policy come with it.
        var parsed = number is { } n ? new NftHook(type ?? "?", n, priority, policy ?? Verdict.Accept) : null;
        return new NftChainInfo(name ?? throw new NetlinkFormatException("chain without a name"), parsed, flags);
    }

    private static NftSetInfo ReadSet(in NetlinkMessage reply)
    {
        var attributes = reply.Attributes(NfNetlink.GenMsgSize);
        string? name = null;
        uint flags = 0, keyType = 0, keyLength = 0;
        var hasData = false;
        var expressions = new List<string>();
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case SetAttr.Name:
                    name = attribute.GetString();
                    break;
                case SetAttr.Flags:
                    flags = attribute.GetBigEndianU32();
                    break;
                case SetAttr.KeyType:
                    keyType = attribute.GetBigEndianU32();
                    break;
                case SetAttr.KeyLen:
                    keyLength = attribute.GetBigEndianU32();
                    break;
                case SetAttr.DataType:
                    hasData = true;
                    break;
                case SetAttr.Expr or SetAttr.Expressions:
                    expressions.AddRange(NftSetExpressions.Read(attribute, attribute.Type == SetAttr.Expressions).Select(e => e.Name));
                    break;
            }
        }

        return new NftSetInfo(name ?? throw new NetlinkFormatException("set without a name"), flags, keyType, keyLength, hasData) { Expressions = expressions };
    }
}
