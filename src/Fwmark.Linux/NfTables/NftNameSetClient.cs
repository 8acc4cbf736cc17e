using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// Reads of ifname sets and of any table on a shared socket (the bridge table next to the inet one):
/// single-element lookups (a hash lookup, independent of the pod count) and dumps.
/// </summary>
internal sealed class NftNameSetClient(NetlinkConversation socket, NftTable table)
{
    private const ushort Ack = NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_ACK;

    private const ushort DumpFlags = NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_DUMP;

    public NftTable Table { get; } = table;

    /// <summary>Null when the element, the set or the table is missing (all ENOENT).</summary>
    public NftNameElementInfo? GetElement(string set, string name)
    {
        var writer = new NetlinkWriter(256);
        NftNameElementCodec.Write(ref writer, NftMessageType.GetSetElem, Ack, socket.NextSequence(), Table, new NftNameElement(set, name));
        var found = new List<NftNameElementInfo>(1);
        try
        {
            socket.Request(writer.WrittenSpan, (in NetlinkMessage reply) => NftNameElementCodec.ReadElements(reply, found));
        }
        catch (NetlinkException e) when (e.IsNotFound)
        {
            return null;
        }
        catch (NetlinkException e)
        {
            throw new NftException($"look up element \"{name}\" in set {set} of table {Table}", e);
        }

        return found.Count == 1 ? found[0] : throw new NetlinkFormatException($"element lookup returned {found.Count} elements");
    }

    /// <summary>Every element of <paramref name="set"/>; empty when the set or table is missing.</summary>
    public List<NftNameElementInfo> DumpElements(string set)
    {
        try
        {
            return socket.DumpConsistently(
                (ref NetlinkWriter writer, uint sequence) =>
                {
                    var message = NftMessage.Begin(ref writer, NftMessageType.GetSetElem, DumpFlags, sequence, Table.Family);
                    writer.WriteString(SetElemListAttr.Table, Table.Name);
                    writer.WriteString(SetElemListAttr.Set, set);
                    writer.EndMessage(message);
                },
                (in NetlinkMessage reply, List<NftNameElementInfo> into) => NftNameElementCodec.ReadElements(reply, into),
                "the ruleset");
        }
        catch (NetlinkException e)
        {
            throw new NftException($"list set {set} of table {Table}", e);
        }
    }
}
