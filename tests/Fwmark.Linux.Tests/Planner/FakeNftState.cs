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

    public int ElementDumps { get; private set; }

    /// <summary>The structure Install makes for <paramref name="marks"/> (sets, prerouting, mark and restore chains), no elements.</summary>
    public static FakeNftState Healthy(params MarkSpec[] marks)
    {
        var state = new FakeNftState();
        var chains = marks.Select(m => m.ChainName).Order(StringComparer.Ordinal).ToList();
        foreach (var set in chains.SelectMany(FwmarkRuleset.SetsOf))
        {
            state.Sets[set.Name] = [];
        }

        foreach (var chain in chains)
        {
            state.Sets[InterfaceRuleset.InterfaceSet(chain).Name] = [];
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
        RuleList.AddRange(rules.Select(r => new NftRuleInfo(r.Chain, ++_handle, r.Comment, [.. r.Expressions.Select(e => e.Name)])));
        return this;
    }

    public FakeNftState WithElement(MarkSpec mark, string address, string? comment)
    {
        var ip = IPAddress.Parse(address);
        Sets[FwmarkRuleset.SetFor(ip, mark.ChainName).Name].Add(new NftElementInfo(ip, comment));
        return this;
    }

    public IReadOnlyList<string> SetNames() => [.. Sets.Keys];

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
            BridgeRuleList.Add(new NftRuleInfo(rule.Chain, ++_handle, rule.Comment, [.. rule.Expressions.Select(e => e.Name)]));
        }

        return this;
    }

    public FakeNftState WithName(NftTable table, string set, string name, string? comment)
    {
        (NameSets.TryGetValue((table, set), out var list) ? list : NameSets[(table, set)] = []).Add(new NftNameElementInfo(name, comment));
        return this;
    }

    public bool BridgeExists() => BridgeRuleList is not null;

    public IReadOnlyList<NftRuleInfo> BridgeRules() => BridgeRuleList ?? [];

    public NftNameElementInfo? NameElement(NftTable table, string set, string name) =>
        NameSets.TryGetValue((table, set), out var elements) ? elements.FirstOrDefault(e => e.Name == name) : null;

    public IReadOnlyList<NftNameElementInfo> NameElements(NftTable table, string set)
    {
        ElementDumps++;
        return NameSets.TryGetValue((table, set), out var elements) ? elements : [];
    }
}
