using Fwmark.Linux.Dataplane;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The sets, chains and rules a table of the plugin's shape holds for a list of mark chains, taken from
/// <see cref="WantedStructure"/> (the plugin's own definition), so the plugin's tables, their restore and the
/// agent's guard tables always carry identical marking. The guard's copy has every base chain one
/// priority step later (<see cref="GuardTable.PriorityStep"/>).
/// </summary>
internal static class RulesetShape
{
    /// <summary>`inet fwmark`'s objects for <paramref name="markChains"/>, base chains moved by <paramref name="priorityStep"/>.</summary>
    public static WantedStructure Inet(IReadOnlyList<string> markChains, int priorityStep = 0) =>
        Shifted(WantedStructure.For(markChains), priorityStep);

    /// <summary>`bridge fwmark`'s objects for <paramref name="markChains"/>, base chains moved by <paramref name="priorityStep"/>.</summary>
    public static WantedStructure Bridge(IReadOnlyList<string> markChains, int priorityStep = 0) =>
        Shifted(WantedStructure.ForBridge(markChains), priorityStep);

    /// <summary>
    /// Queues the complete structure (sets, chains, rules) into an empty table; <paramref name="route"/> addresses
    /// each operation (e.g. to the bridge table inside a transaction of the inet one).
    /// </summary>
    public static void Build(NftTransaction transaction, WantedStructure want, Func<NftOperation, NftOperation> route)
    {
        foreach (var set in want.Sets)
        {
            transaction.Add(route(new AddSetOp(set)));
        }

        foreach (var wanted in want.Chains)
        {
            transaction.Add(route(new AddChainOp(wanted.Chain)));
        }

        // Mark chains first, prerouting (which jumps to them) last.
        foreach (var wanted in PreroutingLast(want.Chains))
        {
            foreach (var rule in wanted.Rules)
            {
                transaction.Add(route(new AddRuleOp(rule)));
            }
        }
    }

    /// <summary>The chains in an order in which every goto target is filled before the chain that jumps to it.</summary>
    public static IEnumerable<WantedChain> PreroutingLast(IEnumerable<WantedChain> chains) =>
        chains.OrderBy(c => c.Chain.Name == FwmarkRuleset.Prerouting.Name);

    private static WantedStructure Shifted(WantedStructure want, int step) =>
        step == 0
            ? want
            : want with
            {
                Chains = [.. want.Chains.Select(c => c.Chain.Hook is { } hook ? c with { Chain = c.Chain with { Hook = hook with { Priority = hook.Priority + step } } } : c)],
            };
}
