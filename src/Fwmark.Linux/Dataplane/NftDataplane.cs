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
    private readonly StructureClaimFile _claims;

    /// <param name="netnsPath">Network namespace to program (tests); null = the current one (production).</param>
    /// <param name="lockPath">Lock file serialising invocations; default <see cref="KernelSession.DefaultLockPath"/>.</param>
    /// <param name="lockTimeout">How long to wait for the lock; default <see cref="KernelSession.DefaultLockTimeout"/>.</param>
    public NftDataplane(string? netnsPath = null, string? lockPath = null, TimeSpan? lockTimeout = null)
    {
        _session = new KernelSession(NetlinkConstants.NETLINK_NETFILTER, netnsPath, lockPath, lockTimeout);
        _claims = new StructureClaimFile(Path.GetDirectoryName(Path.GetFullPath(_session.LockPath)) ?? "/");
    }

    public void InstallTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark) =>
        _session.Locked(
            $"install mark {mark.Name} for {NftPlanner.Describe(owner)}",
            socket => Claimed(socket, state => NftPlanner.Install(state, owner, target, mark), Agent.AgentHandoff.AwaitRestore));

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
                var removed = Claimed(socket, state => NftPlanner.RemoveKeys(state, owner, keys), Agent.AgentHandoff.AwaitRestoreBeforeDelete).Operations.Count;
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
        _session.Unlocked($"verify marks of {NftPlanner.Describe(owner)}", socket =>
        {
            var tables = new NftTables(socket);
            var claim = _claims.Find(socket.Transport.NetnsCookie, tables.Inet.GetGeneration());
            return target.IsInterface
                ? InterfaceVerifier.Verify(tables, owner, target.Path, mark, claim)
                : NftVerifier.Verify(tables.Inet, owner, target.Addresses, mark, claim);
        });

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

    /// <summary>
    /// <see cref="GenerationChecked"/> with structure claims (<see cref="StructureClaim"/>). A claim for the generation
    /// read stands for the agent handoff (it says no table was missing) and for the structure reads. Afterwards, a plan
    /// that found the structure exact leaves a claim: for its generation when it committed nothing, for the next one
    /// when it committed element changes only. <paramref name="handoff"/> is the agent handoff of the verb.
    /// </summary>
    private NftTransaction Claimed(NetlinkConversation socket, Func<INftState, NftTransaction> plan, Func<NetlinkConversation, Agent.AgentHandoff.Outcome> handoff)
    {
        var netns = socket.Transport.NetnsCookie;
        StructureClaim? used = null;
        var handedOver = false;
        (NftTransaction, uint) Run(bool claims) => GenerationChecked.Run(socket, FwmarkRuleset.Table, generation =>
        {
            used = claims ? _claims.Find(netns, generation) : null;
            // Agent running and the table just flushed: let it restore first (Agent/AgentHandoff.cs), before every
            // plan, since a re-plan is exactly what follows a flush in the middle of the first.
            handedOver = used is null && handoff(socket) != Agent.AgentHandoff.Outcome.NothingMissing;
            return plan(new NftClientState(new NftTables(socket), used));
        });

        NftTransaction transaction;
        uint generation;
        try
        {
            (transaction, generation) = Run(claims: true);
        }
        catch (NftException) when (used is not null)
        {
            // The kernel refused what a claim said would work (a set it names is not there): whatever wrote that
            // claim, it must not fail every call from now on. It goes, and the call is planned from the kernel alone.
            _claims.Forget();
            (transaction, generation) = Run(claims: false);
        }

        // A handoff that waited read the tables at another moment than the plan's generation: claim nothing.
        if (netns is not { } cookie || transaction.Verified is not { } verified || handedOver || !transaction.KeepsStructure)
        {
            return transaction;
        }

        var claim = StructureClaim.Make(cookie, generation, verified.SetNames, verified.Bridge);
        if (!transaction.IsEmpty && claim.Next() is { } next)
        {
            _claims.Write(next);
        }
        else if (transaction.IsEmpty && used is null)
        {
            _claims.Write(claim);
        }

        return transaction;
    }

    private T Read<T>(string what, Func<NftTables, T> read) =>
        _session.Unlocked(what, socket => read(new NftTables(socket)));
}
