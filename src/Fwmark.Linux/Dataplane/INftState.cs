using System.Net;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// What <see cref="NftPlanner"/> may read of table inet fwmark: the questions its decisions
/// depend on. <see cref="NftClientState"/> asks the kernel; tests answer from memory. Missing tables
/// and sets read as empty.
/// </summary>
internal interface INftState
{
    /// <summary>
    /// A claim that the structure is exact at the generation this plan reads (see <see cref="StructureClaim"/>), or
    /// null: read and compare it.
    /// </summary>
    StructureClaim? Claim => null;

    /// <summary>Names of the sets of the table (a handful: two per mark chain).</summary>
    IReadOnlyList<string> SetNames();

    /// <summary>Table flags, chains with their hooks, sets with their types, and the rules: what drift detection compares.</summary>
    NftTableSnapshot Structure();

    /// <summary>Every rule of the table (a handful: independent of the number of pods).</summary>
    IReadOnlyList<NftRuleInfo> Rules();

    /// <summary>The element for <paramref name="address"/> in <paramref name="set"/>, or null (an O(1) lookup).</summary>
    NftElementInfo? Element(string set, IPAddress address);

    /// <summary>Every element of <paramref name="set"/> (O(pods): only for DEL without addresses and GC).</summary>
    IReadOnlyList<NftElementInfo> Elements(string set);

    /// <summary>Whether table bridge fwmark exists (it is made with the first bridge-port attachment).</summary>
    bool BridgeExists();

    /// <summary>The structure of table bridge fwmark, as <see cref="Structure"/>; no flags (missing) when it does not exist.</summary>
    NftTableSnapshot BridgeStructure();

    /// <summary>Every rule of table bridge fwmark; empty when it does not exist.</summary>
    IReadOnlyList<NftRuleInfo> BridgeRules();

    /// <summary>The element for interface <paramref name="name"/> in ifname set <paramref name="set"/> of <paramref name="table"/>, or null.</summary>
    NftNameElementInfo? NameElement(NftTable table, string set, string name);

    /// <summary>Every element of ifname set <paramref name="set"/> of <paramref name="table"/> (O(pods), like <see cref="Elements"/>).</summary>
    IReadOnlyList<NftNameElementInfo> NameElements(NftTable table, string set);
}

/// <summary><see cref="INftState"/> read from the kernel over one netlink socket.</summary>
internal sealed class NftClientState(NftTables tables, StructureClaim? claim = null) : INftState
{
    public StructureClaim? Claim => claim;

    public IReadOnlyList<string> SetNames() => tables.Inet.DumpSetNames();

    public NftTableSnapshot Structure() => tables.Inet.ReadStructure();

    public NftTableSnapshot BridgeStructure() => tables.Bridge.ReadStructure();

    public IReadOnlyList<NftRuleInfo> Rules() => tables.Inet.DumpRules();

    public NftElementInfo? Element(string set, IPAddress address) => tables.Inet.GetElement(set, address);

    public IReadOnlyList<NftElementInfo> Elements(string set) => tables.Inet.DumpElements(set);

    public bool BridgeExists() => tables.Bridge.TableExists();

    public IReadOnlyList<NftRuleInfo> BridgeRules() => tables.Bridge.DumpRules();

    public NftNameElementInfo? NameElement(NftTable table, string set, string name) => tables.NamesOf(table).GetElement(set, name);

    public IReadOnlyList<NftNameElementInfo> NameElements(NftTable table, string set) => tables.NamesOf(table).DumpElements(set);
}
