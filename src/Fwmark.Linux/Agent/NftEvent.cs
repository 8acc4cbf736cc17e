using System.Net;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// One nf_tables notification (NFNLGRP_NFTABLES), reduced to what the agent acts on: what kind of
/// object changed, in which table, and for element changes the set and its elements.
/// </summary>
/// <param name="PortId">nlmsg_pid: the port id of the socket whose request caused the change.</param>
/// <param name="Names">For an ifname set (ifaces-/ports-: their keys are 16 bytes, like an IPv6 address, so the set's
/// name decides how they are read): the interface names; <paramref name="Elements"/> is then empty.</param>
/// <param name="Unreadable">An element could not be decoded (e.g. a catch-all element without a key):
/// the agent cannot mirror this message and resynchronises from a dump instead.</param>
internal sealed record NftEvent(
    NftMessageType Kind,
    byte Family,
    string? Table,
    string? Set,
    IReadOnlyList<NftElementInfo> Elements,
    uint PortId,
    bool Unreadable,
    IReadOnlyList<NftNameElementInfo> Names)
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
        var names = new List<NftNameElementInfo>();
        var unreadable = false;
        if (kind is NftMessageType.NewSetElem or NftMessageType.DelSetElem)
        {
            try
            {
                if (set is not null && IsNameSet(set))
                {
                    NftNameElementCodec.ReadElements(message, names);
                }
                else
                {
                    NftElementCodec.ReadElements(message, elements);
                }
            }
            catch (NetlinkFormatException)
            {
                unreadable = true;
            }
        }

        return new NftEvent(kind, family, table, set, elements, message.PortId, unreadable, names);
    }

    /// <summary>Whether a set of ours is keyed by interface name (the routed-interface and bridge-port sets).</summary>
    public static bool IsNameSet(string set) =>
        set.StartsWith(InterfaceRuleset.InterfacePrefix, StringComparison.Ordinal) || set.StartsWith(InterfaceRuleset.PortPrefix, StringComparison.Ordinal);

    public bool IsFor(NftTable table) => Family == table.Family && Table == table.Name;

    /// <summary>Whether the change is to one of the plugin's two tables (inet or bridge fwmark).</summary>
    public bool IsForPlugin => IsFor(FwmarkRuleset.Table) || IsFor(InterfaceRuleset.BridgeTable);

    public override string ToString() =>
        $"{Kind} {Table}{(Set is null ? "" : $" {Set}")}{(Elements.Count + Names.Count == 0 ? "" : $" [{string.Join(", ", Elements.Select(e => e.Key.ToString()).Concat(Names.Select(n => n.Name)))}]")} (port {PortId})";

    /// <summary>Keys only, for tests.</summary>
    public IEnumerable<IPAddress> Keys => Elements.Select(e => e.Key);
}
