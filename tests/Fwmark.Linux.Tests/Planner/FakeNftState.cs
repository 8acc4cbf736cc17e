using System.Net;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Planner;

/// <summary>
/// Table inet fwmark in memory, for <see cref="NftPlanner"/>: sets with their elements and the rules
/// as the kernel reports them back. <see cref="Healthy"/> builds what Install leaves behind; tests
/// then tamper with it. Counts the O(pods) reads so the cost rules stay tested too.
/// </summary>
internal sealed class FakeNftState : INftState
{
    private ulong _handle;

    public Dictionary<string, List<NftElementInfo>> Sets { get; } = new(StringComparer.Ordinal);

    public List<NftRuleInfo> RuleList { get; } = [];

    /// <summary>The chains with their hooks; <see cref="Healthy"/> fills in the ones Install makes.</summary>
    public List<NftChainInfo> ChainList { get; } = [];

    /// <summary>Table flags; null = no table (nothing there at all).</summary>
    public uint? TableFlags { get; set; }

    public int ElementDumps { get; private set; }

    /// <summary>Sets reported without a counter template, as a fwmark version before per-element counters made them.</summary>
    public HashSet<string> SetsWithoutCounters { get; } = new(StringComparer.Ordinal);

    /// <summary>The structure Install makes for <paramref name="marks"/> (sets, prerouting, mark and restore chains), no elements.</summary>
    public static FakeNftState Healthy(params MarkSpec[] marks)
    {
        var state = new FakeNftState { TableFlags = 0 };
        var chains = marks.Select(m => m.ChainName).Order(StringComparer.Ordinal).ToList();
        foreach (var set in chains.SelectMany(FwmarkRuleset.SetsOf))
        {
            state.Sets[set.Name] = [];
        }

        foreach (var chain in chains)
        {
            state.Sets[InterfaceRuleset.InterfaceSet(chain).Name] = [];
        }

        foreach (var chain in WantedStructure.For(chains).Chains.Select(c => c.Chain))
        {
            state.ChainList.Add(new NftChainInfo(chain.Name, chain.Hook, chain.Hook is null ? 0 : ChainAttr.FlagBase));
        }

        state.AddRules(FwmarkRuleset.PreroutingRules(chains));
        state.AddRules(InterfaceRuleset.RepliesRules(marks));
        foreach (var mark in marks)
        {
            state.AddRules(FwmarkRuleset.MarkRules(mark));
            if (mark.Connmark)
            {
                state.AddRules(ConnmarkRules.RestoreRules(mark));
            }
        }

        return state;
    }

    public FakeNftState AddRules(IEnumerable<NftRule> rules)
    {
        RuleList.AddRange(rules.Select(r => new NftRuleInfo(r.Chain, ++_handle, r.Comment, r.Shapes)));
        return this;
    }

    public FakeNftState WithElement(MarkSpec mark, string address, string? comment)
    {
        var ip = IPAddress.Parse(address);
        Sets[FwmarkRuleset.SetFor(ip, mark.ChainName).Name].Add(new NftElementInfo(ip, comment));
        return this;
    }

    /// <summary>What the plan is told about the generation it reads (a claim stands for the structure reads).</summary>
    public StructureClaim? Claim { get; set; }

    /// <summary>How often the planner read the structure of either table, or its set names, or whether the bridge table exists.</summary>
    public int StructureReads { get; private set; }

    public IReadOnlyList<string> SetNames()
    {
        StructureReads++;
        return [.. Sets.Keys];
    }

    /// <summary>Plain sets of the right key type with a counter (what Install makes) unless listed in <see cref="SetsWithoutCounters"/>, the chains and rules as they are.</summary>
    public NftTableSnapshot Structure()
    {
        StructureReads++;
        return TableFlags is null
            ? new NftTableSnapshot(null, [], [], [])
            : new NftTableSnapshot(
                TableFlags,
                ChainList,
                [.. Sets.Keys.Select(n => SetInfo(n, KeyOf(n)))],
                RuleList);
    }

    /// <summary>The bridge table as it is: its chains, a plain port set with a counter per mark chain of the inet table (none when listed in <see cref="SetsWithoutCounters"/>), its rules.</summary>
    public NftTableSnapshot BridgeStructure()
    {
        StructureReads++;
        if (BridgeRuleList is null)
        {
            return new NftTableSnapshot(null, [], [], []);
        }

        var markChains = FwmarkRuleset.MarkChains(Sets.Keys);
        var chains = BridgeChainList ?? [.. WantedStructure.ForBridge(markChains).Chains.Select(c => new NftChainInfo(c.Chain.Name, c.Chain.Hook, c.Chain.Hook is null ? 0 : ChainAttr.FlagBase))];
        return new NftTableSnapshot(0, chains, [.. markChains.Select(c => SetInfo(InterfaceRuleset.PortSet(c).Name, NftKeyType.IfName))], BridgeRuleList);
    }

    /// <summary>The bridge table's chains when a test changed them; null = the ones Install makes.</summary>
    public List<NftChainInfo>? BridgeChainList { get; set; }

    private static NftKeyType KeyOf(string set) =>
        set.StartsWith("pods6-", StringComparison.Ordinal) ? NftKeyType.IPv6Address
        : set.StartsWith(InterfaceRuleset.InterfacePrefix, StringComparison.Ordinal) ? NftKeyType.IfName
        : NftKeyType.IPv4Address;

    /// <summary>A plain set of the key type with the counter Install gives it, unless listed in <see cref="SetsWithoutCounters"/> (an older fwmark's).</summary>
    private NftSetInfo SetInfo(string name, NftKeyType key) =>
        new(name, 0, key.TypeId, key.Length, false) { Expressions = SetsWithoutCounters.Contains(name) ? [] : ["counter"] };

    public IReadOnlyList<NftRuleInfo> Rules() => RuleList;

    public NftElementInfo? Element(string set, IPAddress address) =>
        Sets.TryGetValue(set, out var elements) ? elements.FirstOrDefault(e => e.Key.Equals(address)) : null;

    public IReadOnlyList<NftElementInfo> Elements(string set)
    {
        ElementDumps++;
        return Sets.TryGetValue(set, out var elements) ? elements : [];
    }

    /// <summary>Table bridge fwmark's rules; null = the table does not exist (no bridge-port attachment yet).</summary>
    public List<NftRuleInfo>? BridgeRuleList { get; set; }

    /// <summary>Elements of the ifname sets, by (table, set).</summary>
    public Dictionary<(NftTable Table, string Set), List<NftNameElementInfo>> NameSets { get; } = [];

    /// <summary>The bridge table's structure as Install makes it for <paramref name="marks"/>.</summary>
    public FakeNftState AddBridgeRules(params MarkSpec[] marks)
    {
        var chains = marks.Select(m => m.ChainName).Order(StringComparer.Ordinal).ToList();
        BridgeRuleList ??= [];
        foreach (var rule in InterfaceRuleset.BridgePreroutingRules(chains).Concat(marks.SelectMany(InterfaceRuleset.BridgeMarkRules)))
        {
            BridgeRuleList.Add(new NftRuleInfo(rule.Chain, ++_handle, rule.Comment, rule.Shapes));
        }

        return this;
    }

    public FakeNftState WithName(NftTable table, string set, string name, string? comment)
    {
        (NameSets.TryGetValue((table, set), out var list) ? list : NameSets[(table, set)] = []).Add(new NftNameElementInfo(name, comment));
        return this;
    }

    public bool BridgeExists()
    {
        StructureReads++;
        return BridgeRuleList is not null;
    }

    public IReadOnlyList<NftRuleInfo> BridgeRules() => BridgeRuleList ?? [];

    public NftNameElementInfo? NameElement(NftTable table, string set, string name) =>
        NameSets.TryGetValue((table, set), out var elements) ? elements.FirstOrDefault(e => e.Name == name) : null;

    public IReadOnlyList<NftNameElementInfo> NameElements(NftTable table, string set)
    {
        ElementDumps++;
        return NameSets.TryGetValue((table, set), out var elements) ? elements : [];
    }
}
