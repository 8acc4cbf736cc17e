using Fwmark.Linux.Dataplane;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The chains and rules a table of the plugin's shape holds for a list of mark chains: the plugin's
/// own table (base chains at mangle, −150) and the agent's guard table (the same, one step later).
/// Built from <see cref="FwmarkRuleset"/> and <see cref="ConnmarkRules"/> so both tables always carry
/// identical marking.
/// </summary>
internal static class RulesetShape
{
    public static List<(NftChain Chain, IReadOnlyList<NftRule> Rules)> For(IReadOnlyList<string> markChains, int priority)
    {
        var wanted = new List<(NftChain Chain, IReadOnlyList<NftRule> Rules)>
        {
            (AtPriority(FwmarkRuleset.Prerouting, priority), FwmarkRuleset.PreroutingRules(markChains)),
        };
        foreach (var mark in markChains.Select(FwmarkRuleset.ParseMarkChain).OfType<Fwmark.Core.MarkSpec>())
        {
            wanted.Add((FwmarkRuleset.MarkChain(mark), FwmarkRuleset.MarkRules(mark)));
            if (mark.Connmark)
            {
                wanted.Add((AtPriority(ConnmarkRules.RestoreChain(mark), priority), ConnmarkRules.RestoreRules(mark)));
            }
        }

        return wanted;
    }

    /// <summary>Queues the complete structure (sets, chains, rules) into an empty table.</summary>
    public static void Build(NftTransaction transaction, IReadOnlyList<string> markChains, int priority)
    {
        foreach (var set in markChains.SelectMany(FwmarkRuleset.SetsOf))
        {
            transaction.Add(new AddSetOp(set));
        }

        var wanted = For(markChains, priority);
        foreach (var (chain, _) in wanted)
        {
            transaction.Add(new AddChainOp(chain));
        }

        // Mark chains first, prerouting (which jumps to them) last.
        foreach (var (_, rules) in wanted.OrderBy(w => w.Chain.Name == FwmarkRuleset.Prerouting.Name))
        {
            foreach (var rule in rules)
            {
                transaction.Add(new AddRuleOp(rule));
            }
        }
    }

    private static NftChain AtPriority(NftChain chain, int priority) =>
        chain.Hook is { } hook ? chain with { Hook = hook with { Priority = priority } } : chain;
}
