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

        foreach (var chain in WantedStructure.For(chains).Chains.Select(c => c.Chain))
        {
            state.ChainList.Add(new NftChainInfo(chain.Name, chain.Hook, chain.Hook is null ? 0 : ChainAttr.FlagBase));
        }

        state.AddRules(FwmarkRuleset.PreroutingRules(chains));
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

    public IReadOnlyList<string> SetNames() => [.. Sets.Keys];

    /// <summary>Plain sets of the right key type with a counter (what Install makes) unless listed in <see cref="SetsWithoutCounters"/>, the chains and rules as they are.</summary>
    public NftTableSnapshot Structure() => TableFlags is null
        ? new NftTableSnapshot(null, [], [], [])
        : new NftTableSnapshot(
            TableFlags,
            ChainList,
            [.. Sets.Keys.Select(n => new NftSetInfo(n, 0, n.StartsWith("pods6-", StringComparison.Ordinal) ? NftKeyType.IPv6Address.TypeId : NftKeyType.IPv4Address.TypeId, n.StartsWith("pods6-", StringComparison.Ordinal) ? 16u : 4u, false)
            {
                Expressions = SetsWithoutCounters.Contains(n) ? [] : ["counter"],
            })],
            RuleList);

    public IReadOnlyList<NftRuleInfo> Rules() => RuleList;

    public NftElementInfo? Element(string set, IPAddress address) =>
        Sets.TryGetValue(set, out var elements) ? elements.FirstOrDefault(e => e.Key.Equals(address)) : null;

    public IReadOnlyList<NftElementInfo> Elements(string set)
    {
        ElementDumps++;
        return Sets.TryGetValue(set, out var elements) ? elements : [];
    }
}
