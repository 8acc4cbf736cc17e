using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// The two tables fwmark owns, read over one netlink socket: the inet table (address and routed-interface
/// keys) and the bridge table (bridge-port keys). Writes to both go into one <see cref="NftTransaction"/>.
/// </summary>
internal sealed class NftTables(NetlinkConversation socket)
{
    public NftClient Inet { get; } = new(socket, FwmarkRuleset.Table);

    public NftClient Bridge { get; } = new(socket, InterfaceRuleset.BridgeTable);

    public NftNameSetClient InetNames { get; } = new(socket, FwmarkRuleset.Table);

    public NftNameSetClient BridgeNames { get; } = new(socket, InterfaceRuleset.BridgeTable);

    /// <summary>The ifname-set reader of <paramref name="table"/> (one of ours).</summary>
    public NftNameSetClient NamesOf(NftTable table) => table == InterfaceRuleset.BridgeTable ? BridgeNames : InetNames;

    /// <summary>Every ifname set that can hold an interface of <paramref name="markChains"/>, with its table; the bridge sets only when that table exists.</summary>
    public static List<(NftTable Table, NftAddressSet Set)> NameSetsOf(IEnumerable<string> markChains, bool bridgeExists) =>
    [
        .. markChains.SelectMany(chain => bridgeExists
            ? new[] { (FwmarkRuleset.Table, InterfaceRuleset.InterfaceSet(chain)), (InterfaceRuleset.BridgeTable, InterfaceRuleset.PortSet(chain)) }
            : [(FwmarkRuleset.Table, InterfaceRuleset.InterfaceSet(chain))]),
    ];

    /// <summary>Deletes <paramref name="name"/> from <paramref name="set"/> of <paramref name="table"/>.</summary>
    public static NftOperation DeleteName(NftTable table, NftAddressSet set, string name)
    {
        var delete = new DeleteNameElementOp(new NftNameElement(set.Name, name));
        return table == InterfaceRuleset.BridgeTable ? OnBridge(delete) : delete;
    }

    /// <summary>An operation on the bridge table, inside a transaction whose own table is the inet one.</summary>
    public static NftOperation OnBridge(NftOperation operation) => new OnTableOp(InterfaceRuleset.BridgeTable, operation);

    /// <summary>
    /// Every ifname set that can hold an interface of <paramref name="markChains"/>, with the reader and the
    /// table it lives in; the bridge sets only when the bridge table exists.
    /// </summary>
    public List<(NftNameSetClient Reader, NftAddressSet Set)> NameSets(IEnumerable<string> markChains, bool bridgeExists) =>
    [
        .. markChains.SelectMany(chain => bridgeExists
            ? new[] { (InetNames, InterfaceRuleset.InterfaceSet(chain)), (BridgeNames, InterfaceRuleset.PortSet(chain)) }
            : [(InetNames, InterfaceRuleset.InterfaceSet(chain))]),
    ];

    /// <summary>Deletes <paramref name="name"/> from <paramref name="set"/> in whichever table the reader reads.</summary>
    public static NftOperation DeleteName(NftNameSetClient reader, NftAddressSet set, string name)
    {
        var delete = new DeleteNameElementOp(new NftNameElement(set.Name, name));
        return reader.Table == InterfaceRuleset.BridgeTable ? OnBridge(delete) : delete;
    }
}
