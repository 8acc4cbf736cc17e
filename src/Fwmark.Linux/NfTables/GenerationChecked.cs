using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// "Read the kernel, decide, commit" made safe against writers that do not share the flock (an
/// invocation whose /run is another mount, nft run by hand, another agent): the generation is
/// read before anything else and sent with the batch (NFNL_BATCH_GENID), so the kernel applies
/// the batch only if nothing was committed since the plan's reads. Otherwise it refuses the
/// whole batch (ERESTART) and the plan is made again from fresh reads. Without it two first
/// ADDs of new marks each rewrote prerouting with only the chains they had seen.
/// </summary>
internal static class GenerationChecked
{
    /// <summary>
    /// Enough for any burst of real writers (each retry means someone else's commit succeeded);
    /// bounded so a ruleset rewritten in a tight loop fails the call instead of spinning.
    /// </summary>
    public const int MaxAttempts = 20;

    /// <param name="beforePlan">Runs after the generation is read and before each plan (the agent handoff:
    /// a retry after a flush must wait for the agent's restore like the first attempt does).</param>
    /// <returns>The transaction that was committed.</returns>
    /// <remarks>
    /// The generation is the whole netns's ruleset's, so one check covers every table the batch
    /// touches (both of ours: the bridge table's operations ride in the inet table's transaction).
    /// </remarks>
    public static NftTransaction Run(NetlinkConversation socket, NftTable table, Func<NftTransaction> plan, Action? beforePlan = null) =>
        Run(socket, table, _ =>
        {
            beforePlan?.Invoke();
            return plan();
        }).Transaction;

    /// <param name="plan">Gets the generation its reads belong to (Dataplane/StructureClaim.cs keys on it).</param>
    /// <returns>The transaction that was committed (or found empty) and the generation it was planned at: after a
    /// commit the ruleset is at that generation + 1, after an empty plan still at it.</returns>
    public static (NftTransaction Transaction, uint Generation) Run(NetlinkConversation socket, NftTable table, Func<uint, NftTransaction> plan)
    {
        for (var attempt = 1; ; attempt++)
        {
            var client = new NftClient(socket, table);
            var generation = client.GetGeneration();
            var transaction = plan(generation);
            try
            {
                if (transaction.IsEmpty)
                {
                    // An empty batch is never sent, so the kernel cannot check the generation for us. "Nothing to
                    // do" read across a flush (a DEL that found the table gone mid-plan) is not a decision the
                    // caller may act on: the agent's restore may bring back what the DEL meant to delete.
                    if (client.GetGeneration() != generation)
                    {
                        throw new NftGenerationChangedException(table, generation);
                    }

                    return (transaction, generation);
                }

                transaction.Commit(socket, generation);
                return (transaction, generation);
            }
            catch (NftGenerationChangedException) when (attempt < MaxAttempts)
            {
                // Back off a little, growing, so two writers do not keep colliding in lockstep.
                Thread.Sleep(Random.Shared.Next(0, Math.Min(attempt, 10)));
            }
        }
    }
}
