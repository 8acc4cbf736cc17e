using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>NFT_TABLE_F_* (linux/netfilter/nf_tables.h).</summary>
internal static class TableFlags
{
    public const uint Dormant = 0x1;

    /// <summary>The table belongs to the socket that created it: only it may change the table, and it goes when the socket closes.</summary>
    public const uint Owner = 0x2;
}

/// <summary>
/// NEWTABLE with NLM_F_EXCL and explicit flags: the whole batch fails when the table exists. The
/// guard table is created this way (owner flag), and so is the plugin's table when the agent restores it
/// without the lock: if anyone re-created the table first, nothing of the restore is applied.
/// </summary>
internal sealed record CreateTableOp(uint Flags) : NftOperation
{
    public override string Description => "create table";

    public override string Render(NftTable table) =>
        (Flags & TableFlags.Owner) != 0 ? $"create table {table} {{ flags owner; }}" : $"create table {table}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
    {
        var message = NftMessage.Begin(
            ref writer,
            NftMessageType.NewTable,
            Ack | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_EXCL,
            sequence,
            table.Family);
        writer.WriteString(TableAttr.Name, table.Name);
        writer.WriteBigEndianU32(TableAttr.Flags, Flags);
        writer.EndMessage(message);
    }
}

/// <summary>Reads a table's flags (GETTABLE); null when the table does not exist.</summary>
internal static class TableReader
{
    public static uint? Flags(NetlinkConversation socket, NftTable table)
    {
        var writer = new NetlinkWriter(128);
        var message = NftMessage.Begin(ref writer, NftMessageType.GetTable, NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_ACK, socket.NextSequence(), table.Family);
        writer.WriteString(TableAttr.Name, table.Name);
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
        }
        catch (NetlinkException e) when (e.IsNotFound)
        {
            return null;
        }
        catch (NetlinkException e)
        {
            throw new NftException($"read table {table}", e);
        }

        return flags;
    }
}

/// <summary>
/// NEWSETELEM with many elements in one message (NLM_F_EXCL): a restore of 10,000 elements is a few dozen
/// messages and acknowledgements instead of 10,000 of each. <see cref="MaxPerMessage"/> keeps each message's element
/// list well under the 64 KiB limit of one nested attribute.
/// </summary>
internal sealed record AddElementsOp(string Set, IReadOnlyList<NftElement> Elements) : NftOperation
{
    /// <summary>An element with key and a maximal comment takes well under 400 bytes.</summary>
    public const int MaxPerMessage = 128;

    public override bool ChangesStructure => false;

    public override string Description => $"add {Elements.Count} element(s) to set {Set}";

    public override string Render(NftTable table) =>
        $"add element {table} {Set} {{ {string.Join(", ", Elements.Select(e => e.Comment is null ? $"{e.Key}" : $"{e.Key} comment {Quote(e.Comment)}"))} }}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence) =>
        NftElementCodec.WriteList(ref writer, NftMessageType.NewSetElem, Ack | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_EXCL, sequence, table, Set, Elements.Select(e => (e.KeyBytes, e.Comment)));

    /// <summary>Queues <paramref name="elements"/> (all of one set) as as few messages as the limit allows, each through <paramref name="route"/>.</summary>
    public static void Queue(NftTransaction transaction, string set, IEnumerable<NftElement> elements, Func<NftOperation, NftOperation> route)
    {
        foreach (var chunk in elements.Chunk(MaxPerMessage))
        {
            transaction.Add(route(new AddElementsOp(set, chunk)));
        }
    }

    /// <summary>Deletes key <paramref name="key"/> (address or interface name as text, by the set's key type) from <paramref name="set"/>.</summary>
    public static NftOperation DeleteKey(NftAddressSet set, string key) =>
        set.Key == NftKeyType.IfName
            ? new DeleteNameElementOp(new NftNameElement(set.Name, key))
            : new DeleteElementOp(new NftElement(set.Name, System.Net.IPAddress.Parse(key)));

    /// <summary>Queues names (ifname sets) or addresses, whichever <paramref name="set"/> is keyed by, through <paramref name="route"/>.</summary>
    public static int QueueKeys(NftTransaction transaction, NftAddressSet set, IEnumerable<(string Key, string? Comment)> keys, Func<NftOperation, NftOperation> route)
    {
        var list = keys.ToList();
        if (set.Key == NftKeyType.IfName)
        {
            AddNameElementsOp.Queue(transaction, set.Name, list.Select(k => new NftNameElement(set.Name, k.Key, k.Comment)), route);
        }
        else
        {
            Queue(transaction, set.Name, list.Select(k => new NftElement(set.Name, System.Net.IPAddress.Parse(k.Key), k.Comment)), route);
        }

        return list.Count;
    }
}

/// <summary><see cref="AddElementsOp"/> for an ifname set: many interface names per NEWSETELEM message.</summary>
internal sealed record AddNameElementsOp(string Set, IReadOnlyList<NftNameElement> Elements) : NftOperation
{
    public override bool ChangesStructure => false;

    public override string Description => $"add {Elements.Count} interface name(s) to set {Set}";

    public override string Render(NftTable table) =>
        $"add element {table} {Set} {{ {string.Join(", ", Elements.Select(e => e.Comment is null ? $"\"{e.Name}\"" : $"\"{e.Name}\" comment {Quote(e.Comment)}"))} }}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence) =>
        NftElementCodec.WriteList(ref writer, NftMessageType.NewSetElem, Ack | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_EXCL, sequence, table, Set, Elements.Select(e => (e.KeyBytes, e.Comment)));

    /// <summary>Queues <paramref name="elements"/> (all of one set) as as few messages as <see cref="AddElementsOp.MaxPerMessage"/> allows, each through <paramref name="route"/>.</summary>
    public static void Queue(NftTransaction transaction, string set, IEnumerable<NftNameElement> elements, Func<NftOperation, NftOperation> route)
    {
        foreach (var chunk in elements.Chunk(AddElementsOp.MaxPerMessage))
        {
            transaction.Add(route(new AddNameElementsOp(set, chunk)));
        }
    }
}
