using System.Net;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// Read-side nf_tables requests on one socket: generation, single-element lookups and the
/// (table-filtered) dumps the dataplane needs. Missing tables/sets read as "nothing there".
/// </summary>
internal sealed partial class NftClient(NetlinkConversation socket, NftTable table)
{
    public NftTable Table { get; } = table;

    /// <summary>NFT_MSG_GETGEN: the ruleset generation id; proves nf_tables answers at all.</summary>
    public uint GetGeneration()
    {
        var writer = new NetlinkWriter(64);
        var message = NftMessage.Begin(ref writer, NftMessageType.GetGen, Ack, socket.NextSequence(), NfNetlink.FamilyUnspec);
        writer.EndMessage(message);
        uint? generation = null;
        try
        {
            socket.Request(writer.WrittenSpan, (in NetlinkMessage reply) =>
            {
                var attributes = reply.Attributes(NfNetlink.GenMsgSize);
                if (attributes.TryFind(GenAttr.Id, out var id))
                {
                    generation = id.GetBigEndianU32();
                }
            });
        }
        catch (NetlinkException e)
        {
            throw new NftException("read nftables generation", e);
        }

        return generation ?? throw new NetlinkFormatException("generation reply without NFTA_GEN_ID");
    }

    /// <summary>NFT_MSG_GETTABLE for our table; false when it does not exist.</summary>
    public bool TableExists()
    {
        var writer = new NetlinkWriter(128);
        var message = NftMessage.Begin(ref writer, NftMessageType.GetTable, Ack, socket.NextSequence(), Table.Family);
        writer.WriteString(TableAttr.Name, Table.Name);
        writer.EndMessage(message);
        try
        {
            socket.Request(writer.WrittenSpan);
            return true;
        }
        catch (NetlinkException e) when (e.IsNotFound)
        {
            return false;
        }
        catch (NetlinkException e)
        {
            throw new NftException($"read table {Table}", e);
        }
    }

    /// <summary>
    /// Single-element GET (NFT_MSG_GETSETELEM without NLM_F_DUMP, the key in the element list):
    /// a hash lookup in the kernel, so its cost does not depend on how many pods exist.
    /// Null when the element, the set or the table is missing (all ENOENT).
    /// </summary>
    public NftElementInfo? GetElement(string set, IPAddress key)
    {
        var writer = new NetlinkWriter(256);
        NftElementCodec.Write(ref writer, NftMessageType.GetSetElem, Ack, socket.NextSequence(), Table, new NftElement(set, key));
        var found = new List<NftElementInfo>(1);
        try
        {
            socket.Request(writer.WrittenSpan, (in NetlinkMessage reply) => NftElementCodec.ReadElements(reply, found));
        }
        catch (NetlinkException e) when (e.IsNotFound)
        {
            return null;
        }
        catch (NetlinkException e)
        {
            throw new NftException($"look up element {key} in set {set}", e);
        }

        return found.Count == 1 ? found[0] : throw new NetlinkFormatException($"element lookup returned {found.Count} elements");
    }

    /// <summary>Every element of <paramref name="set"/>; empty when the set or table is missing.</summary>
    public List<NftElementInfo> DumpElements(string set) => DumpConsistently(
        $"list set {set} of table {Table}",
        (ref NetlinkWriter writer, uint sequence) =>
        {
            var message = NftMessage.Begin(ref writer, NftMessageType.GetSetElem, DumpFlags, sequence, Table.Family);
            writer.WriteString(SetElemListAttr.Table, Table.Name);
            writer.WriteString(SetElemListAttr.Set, set);
            writer.EndMessage(message);
        },
        (in NetlinkMessage reply, List<NftElementInfo> into) => NftElementCodec.ReadElements(reply, into));

    /// <summary>All rules of our table (a handful: independent of the number of pods).</summary>
    public List<NftRuleInfo> DumpRules() => DumpConsistently(
        $"list rules of table {Table}",
        (ref NetlinkWriter writer, uint sequence) =>
        {
            var message = NftMessage.Begin(ref writer, NftMessageType.GetRule, DumpFlags, sequence, Table.Family);
            writer.WriteString(RuleAttr.Table, Table.Name);
            writer.EndMessage(message);
        },
        (in NetlinkMessage reply, List<NftRuleInfo> into) => into.Add(NftRuleCodec.Read(reply)));

    /// <summary>Names of the chains of our table.</summary>
    public List<string> DumpChainNames() => DumpNames(NftMessageType.GetChain, ChainAttr.Table, ChainAttr.Name);

    /// <summary>Names of the sets of our table (a handful: two per mark chain).</summary>
    public List<string> DumpSetNames() => DumpNames(NftMessageType.GetSet, SetAttr.Table, SetAttr.Name);

    private const ushort Ack = NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_ACK;

    private const ushort DumpFlags = NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_DUMP;

    private List<string> DumpNames(NftMessageType type, ushort tableAttribute, ushort nameAttribute) => DumpConsistently(
        $"list {(type == NftMessageType.GetChain ? "chains" : "sets")} of table {Table}",
        (ref NetlinkWriter writer, uint sequence) =>
        {
            var message = NftMessage.Begin(ref writer, type, DumpFlags, sequence, Table.Family);
            writer.WriteString(tableAttribute, Table.Name);
            writer.EndMessage(message);
        },
        (in NetlinkMessage reply, List<string> into) =>
        {
            // Chain dumps are not filtered by table in the kernel: skip other tables' objects.
            var attributes = reply.Attributes(NfNetlink.GenMsgSize);
            if (attributes.TryFind(tableAttribute, out var table) && table.GetString() != Table.Name)
            {
                return;
            }

            attributes = reply.Attributes(NfNetlink.GenMsgSize);
            if (attributes.TryFind(nameAttribute, out var name))
            {
                into.Add(name.GetString());
            }
        });

    private List<T> DumpConsistently<T>(string what, NetlinkRequestBuilder build, NetlinkReplyReader<T> read)
    {
        try
        {
            return socket.DumpConsistently(build, read, "the ruleset");
        }
        catch (NetlinkException e)
        {
            throw new NftException(what, e);
        }
    }
}
