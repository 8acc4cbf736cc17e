using Fwmark.Core;
using Fwmark.Core.Paths;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;
using Fwmark.Linux.Session;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// <see cref="IDataplane"/> on nf_tables, spoken over netlink (no nft binary).
///
/// Ownership: the plugin owns the whole `inet fwmark` and `bridge fwmark` tables (see <see cref="FwmarkRuleset"/>
/// and <see cref="InterfaceRuleset"/>); elements are addresses or interface names (docs/paths.md), with the same rules.
/// The table, the base chain, the mark chains and their address sets are shared by every network
/// and attachment and are only ever created or repaired, never deleted (a mark chain may still be
/// used by another network). Each set element belongs to exactly one attachment: its comment is
/// <see cref="AttachmentOwner.Tag"/>, and Remove/Collect delete an element only when that tag
/// names the caller, so a pod that inherited a recycled IP keeps its element; Remove and Collect
/// never touch an element whose comment is not one of our tags. Install is the one exception, by
/// design: the address now belongs to the installing attachment, so whatever element holds it is
/// replaced. An address is in at most one mark's set. Sets this build did not name (another
/// fwmark version's) make Install refuse, since rewriting prerouting would drop their lookups.
///
/// Races: concurrent invocations (runtimes run ADD/DEL of different pods in parallel) are
/// serialised by an exclusive flock held across "read the kernel, decide, commit", because each
/// decision depends on what was read. Every mutating call is one nf_tables transaction, so a
/// failure — or a crash mid-way — leaves the kernel exactly as before. Reads on the hot path are
/// O(marks) per address (one single-element GET per mark set of its family, a handful), never
/// O(pods); only Remove-without-addresses and Collect dump sets.
/// </summary>
public sealed class NftDataplane : IDataplane
{
    private readonly KernelSession _session;

    /// <param name="netnsPath">Network namespace to program (tests); null = the current one (production).</param>
    /// <param name="lockPath">Lock file serialising invocations; default <see cref="KernelSession.DefaultLockPath"/>.</param>
    /// <param name="lockTimeout">How long to wait for the lock; default <see cref="KernelSession.DefaultLockTimeout"/>.</param>
    public NftDataplane(string? netnsPath = null, string? lockPath = null, TimeSpan? lockTimeout = null) =>
        _session = new KernelSession(NetlinkConstants.NETLINK_NETFILTER, netnsPath, lockPath, lockTimeout);

    public void InstallTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark) =>
        Commit($"install mark {mark.Name} for {NftPlanner.Describe(owner)}", state => NftPlanner.Install(state, owner, target, mark));

    /// <summary>
    /// Also succeeds when the lock's directory cannot be used but nothing of the attachment is in the
    /// kernel (issue 8): the runtime's DEL must not block on a lock it does not need.
    /// </summary>
    public void RemoveKeys(AttachmentOwner owner, AttachmentKeys? keys) =>
        _session.LockedUnlessNothingToDo(
            $"remove marks of {NftPlanner.Describe(owner)}",
            socket =>
            {
                // As in Commit: a DEL in the gap after a flush would find nothing, and the agent's restore would
                // then bring its elements back (Agent/AgentHandoff.cs); so also before a re-plan after a flush.
                var removed = GenerationChecked.Run(
                    socket,
                    FwmarkRuleset.Table,
                    () => NftPlanner.RemoveKeys(new NftClientState(new NftTables(socket)), owner, keys),
                    () => Agent.AgentHandoff.AwaitRestoreBeforeDelete(socket)).Operations.Count;
                if (removed == 0)
                {
                    Agent.AgentHandoff.EnsureNotGuarded(socket, owner);
                }

                return removed;
            },
            socket => NftPlanner.RemoveKeys(new NftClientState(new NftTables(socket)), owner, keys).Operations.Count == 0,
            0);

    public int Collect(string network, IReadOnlyCollection<AttachmentOwner> valid) =>
        Commit($"collect stale marks of network {network}", state => NftPlanner.Collect(state, network, valid));

    public IReadOnlyList<string> VerifyTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark) =>
        Read($"verify marks of {NftPlanner.Describe(owner)}", tables => target.IsInterface
            ? InterfaceVerifier.Verify(tables, owner, target.Path, mark)
            : NftVerifier.Verify(tables.Inet, owner, target.Addresses, mark));

    public void Probe() => Read("program nftables", tables => tables.Inet.GetGeneration());

    /// <summary>
    /// Read state, plan, commit, all under the lock; returns how many changes were committed. The
    /// commit carries the generation the state was read at and is planned again when another writer
    /// committed in between (<see cref="GenerationChecked"/>): the lock only binds writers that share it.
    /// </summary>
    private int Commit(string what, Func<INftState, NftTransaction> plan) =>
        _session.Locked(what, socket =>
        {
            // Agent running and the table just flushed: let it restore first (Agent/AgentHandoff.cs), before every
            // plan, since a re-plan is exactly what follows a flush in the middle of the first.
            return GenerationChecked.Run(
                socket,
                FwmarkRuleset.Table,
                () => plan(new NftClientState(new NftTables(socket))),
                () => Agent.AgentHandoff.AwaitRestore(socket)).Operations.Count;
        });

    private T Read<T>(string what, Func<NftTables, T> read) =>
        _session.Unlocked(what, socket => read(new NftTables(socket)));
}
