using System.Net;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// One nf_tables notification (NFNLGRP_NFTABLES), reduced to what the agent acts on: what kind of
/// object changed, in which table, and for element changes the set and its elements.
/// </summary>
/// <param name="PortId">nlmsg_pid: the port id of the socket whose request caused the change.</param>
/// <param name="Unreadable">An element could not be decoded (e.g. a catch-all element without a key):
/// the agent cannot mirror this message and resynchronises from a dump instead.</param>
internal sealed record NftEvent(
    NftMessageType Kind,
    byte Family,
    string? Table,
    string? Set,
    IReadOnlyList<NftElementInfo> Elements,
    uint PortId,
    bool Unreadable)
{
    /// <summary>Parses one message of a notification datagram; null for messages that are not nf_tables changes.</summary>
    public static NftEvent? Parse(in NetlinkMessage message)
    {
        if (message.Type >> 8 != NfNetlink.SubsysNfTables || message.Payload.Length < NfNetlink.GenMsgSize)
        {
            return null;
        }

        var kind = (NftMessageType)(message.Type & 0xff);
        var family = message.Payload[0];
        string? table = null;
        string? set = null;
        var attributes = message.Attributes(NfNetlink.GenMsgSize);
        // Attribute 1 is the table name in every object message (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE,
        // NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE); 2 is the set's name in set and
        // element messages (NFTA_SET_NAME, NFTA_SET_ELEM_LIST_SET).
        while (attributes.TryRead(out var attribute))
        {
            if (attribute.Type == 1 && kind != NftMessageType.NewGen)
            {
                table = attribute.GetString();
            }
            else if (attribute.Type == 2 && kind is NftMessageType.NewSet or NftMessageType.DelSet or NftMessageType.NewSetElem or NftMessageType.DelSetElem)
            {
                set = attribute.GetString();
            }
        }

        var elements = new List<NftElementInfo>();
        var unreadable = false;
        if (kind is NftMessageType.NewSetElem or NftMessageType.DelSetElem)
        {
            try
            {
                NftElementCodec.ReadElements(message, elements);
            }
            catch (NetlinkFormatException)
            {
                unreadable = true;
            }
        }

        return new NftEvent(kind, family, table, set, elements, message.PortId, unreadable);
    }

    public bool IsFor(NftTable table) => Family == table.Family && Table == table.Name;

    public override string ToString() =>
        $"{Kind} {Table}{(Set is null ? "" : $" {Set}")}{(Elements.Count == 0 ? "" : $" [{string.Join(", ", Elements.Select(e => e.Key))}]")} (port {PortId})";

    /// <summary>Keys only, for tests.</summary>
    public IEnumerable<IPAddress> Keys => Elements.Select(e => e.Key);
}
