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
}

/// <summary><see cref="INftState"/> read from the kernel over one netlink socket.</summary>
internal sealed class NftClientState(NftClient client) : INftState
{
    public IReadOnlyList<string> SetNames() => client.DumpSetNames();

    public NftTableSnapshot Structure() => client.ReadStructure();

    public IReadOnlyList<NftRuleInfo> Rules() => client.DumpRules();

    public NftElementInfo? Element(string set, IPAddress address) => client.GetElement(set, address);

    public IReadOnlyList<NftElementInfo> Elements(string set) => client.DumpElements(set);
}
