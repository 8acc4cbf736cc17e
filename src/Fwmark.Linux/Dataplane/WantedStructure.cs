using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>One chain of our table as fwmark makes it: its shape (hook or none) and its rules, in order.</summary>
internal sealed record WantedChain(NftChain Chain, IReadOnlyList<NftRule> Rules);

/// <summary>
/// The objects of `inet fwmark` that fwmark makes for a list of mark chains (see <see cref="FwmarkRuleset"/>):
/// both sets of every mark chain, the prerouting chain with the lookups of all of them, each mark
/// chain, and the restore chain of every connmark mark. Pure: derived from names only.
/// </summary>
internal sealed record WantedStructure(IReadOnlyList<NftAddressSet> Sets, IReadOnlyList<WantedChain> Chains)
{
    public static WantedStructure For(IReadOnlyList<string> markChains)
    {
        var chains = new List<WantedChain> { new(FwmarkRuleset.Prerouting, FwmarkRuleset.PreroutingRules(markChains)) };
        foreach (var mark in markChains.Select(FwmarkRuleset.ParseMarkChain).OfType<MarkSpec>())
        {
            chains.AddRange(ChainsOf(mark));
        }

        return new WantedStructure([.. markChains.SelectMany(FwmarkRuleset.SetsOf)], chains);
    }

    /// <summary>What CHECK of one attachment compares: prerouting (with every mark's lookups), its own chains and sets.</summary>
    public static WantedStructure ForCheck(IReadOnlyList<string> markChains, MarkSpec mark)
    {
        var full = For(markChains);
        var own = ChainsOf(mark).Select(c => c.Chain.Name).Append(FwmarkRuleset.Prerouting.Name).ToHashSet(StringComparer.Ordinal);
        return new WantedStructure(FwmarkRuleset.SetsOf(mark.ChainName), [.. full.Chains.Where(c => own.Contains(c.Chain.Name))]);
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
