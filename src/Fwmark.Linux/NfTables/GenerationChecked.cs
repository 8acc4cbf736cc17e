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

    /// <returns>The transaction that was committed.</returns>
    /// <remarks>
    /// The generation is the whole netns's ruleset's, so one check covers every table the batch
    /// touches (both of ours: the bridge table's operations ride in the inet table's transaction).
    /// </remarks>
    public static NftTransaction Run(NetlinkConversation socket, NftTable table, Func<NftTransaction> plan)
    {
        for (var attempt = 1; ; attempt++)
        {
            var generation = new NftClient(socket, table).GetGeneration();
            var transaction = plan();
            try
            {
                transaction.Commit(socket, generation);
                return transaction;
            }
            catch (NftGenerationChangedException) when (attempt < MaxAttempts)
            {
                // Back off a little, growing, so two writers do not keep colliding in lockstep.
                Thread.Sleep(Random.Shared.Next(0, Math.Min(attempt, 10)));
            }
        }
    }
}
