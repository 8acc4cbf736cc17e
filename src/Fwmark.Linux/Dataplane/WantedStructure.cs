using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>One chain of our table as fwmark makes it: its shape (hook or none) and its rules, in order.</summary>
internal sealed record WantedChain(NftChain Chain, IReadOnlyList<NftRule> Rules);

/// <summary>
/// The objects of one of our tables that fwmark makes for a list of mark chains (see <see cref="FwmarkRuleset"/>
/// and <see cref="InterfaceRuleset"/>). For `inet fwmark`: the address sets and the ifname set of every mark
/// chain, the prerouting chain with the lookups of all of them, the replies chain, each mark chain, and the
/// restore chain of every connmark mark. For `bridge fwmark`: the port set of every mark chain, its
/// prerouting chain and its mark chains. Pure: derived from names only.
/// </summary>
internal sealed record WantedStructure(IReadOnlyList<NftAddressSet> Sets, IReadOnlyList<WantedChain> Chains, NftTable? InTable = null)
{
    /// <summary>The table these objects live in.</summary>
    public NftTable Table => InTable ?? FwmarkRuleset.Table;

    public bool IsBridge => Table == InterfaceRuleset.BridgeTable;

    public static WantedStructure For(IReadOnlyList<string> markChains)
    {
        var marks = markChains.Select(FwmarkRuleset.ParseMarkChain).OfType<MarkSpec>().ToList();
        var chains = new List<WantedChain>
        {
            new(FwmarkRuleset.Prerouting, FwmarkRuleset.PreroutingRules(markChains)),
            new(InterfaceRuleset.Replies, InterfaceRuleset.RepliesRules(marks)),
        };
        foreach (var mark in marks)
        {
            chains.AddRange(ChainsOf(mark));
        }

        return new WantedStructure([.. markChains.SelectMany(FwmarkRuleset.InetSetsOf)], chains);
    }

    /// <summary>What CHECK of one attachment compares: prerouting (with every mark's lookups), replies, its own chains and sets.</summary>
    public static WantedStructure ForCheck(IReadOnlyList<string> markChains, MarkSpec mark)
    {
        var full = For(markChains);
        var own = ChainsOf(mark).Select(c => c.Chain.Name).Append(FwmarkRuleset.Prerouting.Name).Append(InterfaceRuleset.Replies.Name)
            .ToHashSet(StringComparer.Ordinal);
        return new WantedStructure(FwmarkRuleset.InetSetsOf(mark.ChainName), [.. full.Chains.Where(c => own.Contains(c.Chain.Name))]);
    }

    /// <summary>`bridge fwmark` for <paramref name="markChains"/>: every port set, prerouting, every mark chain.</summary>
    public static WantedStructure ForBridge(IReadOnlyList<string> markChains)
    {
        var marks = markChains.Select(FwmarkRuleset.ParseMarkChain).OfType<MarkSpec>();
        List<WantedChain> chains =
        [
            new(InterfaceRuleset.BridgePrerouting, InterfaceRuleset.BridgePreroutingRules(markChains)),
            .. marks.Select(m => new WantedChain(FwmarkRuleset.MarkChain(m), InterfaceRuleset.BridgeMarkRules(m))),
        ];
        return new WantedStructure([.. markChains.Select(InterfaceRuleset.PortSet)], chains, InterfaceRuleset.BridgeTable);
    }

    /// <summary>What CHECK of one bridge-port attachment compares in `bridge fwmark`: prerouting, its mark chain and port set.</summary>
    public static WantedStructure ForBridgeCheck(IReadOnlyList<string> markChains, MarkSpec mark)
    {
        var full = ForBridge(markChains);
        var own = new HashSet<string>(StringComparer.Ordinal) { InterfaceRuleset.BridgePrerouting.Name, mark.ChainName };
        return new WantedStructure([InterfaceRuleset.PortSet(mark.ChainName)], [.. full.Chains.Where(c => own.Contains(c.Chain.Name))], InterfaceRuleset.BridgeTable);
    }

    private static IEnumerable<WantedChain> ChainsOf(MarkSpec mark)
    {
        yield return new WantedChain(FwmarkRuleset.MarkChain(mark), FwmarkRuleset.MarkRules(mark));
        if (mark.Connmark)
        {
            // Its own base chain per (value, mask): the restore does not depend on which pods are marked.
            yield return new WantedChain(ConnmarkRules.RestoreChain(mark), ConnmarkRules.RestoreRules(mark));
        }
    }
}
