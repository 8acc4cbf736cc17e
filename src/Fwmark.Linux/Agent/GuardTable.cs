using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The agent's owned guard tables: a second copy of the plugin's marking that nothing but the agent can
/// flush, delete or make dormant.
///
/// <para><b>Who owns what.</b> The plugin owns <c>table inet fwmark</c> and, from its first bridge-port
/// attachment on, <c>table bridge fwmark</c> (the primaries: they work with or without an agent, and every
/// ADD/DEL/GC writes only there, under the flock, both tables in one transaction). The agent owns
/// <c>table inet fwmark-guard</c> and, once the plugin has a bridge table, <c>table bridge fwmark-guard</c>,
/// both created with NFT_TABLE_F_OWNER on one netlink socket the agent keeps open for its whole life: the
/// kernel refuses every change to them from any other socket (EPERM — also `nft delete table` and
/// `add table ... { flags dormant; }`), skips them in `nft flush ruleset`, and deletes them when that socket
/// closes (the agent exits or dies), so a guard never outlives its agent. Each guard holds the same sets
/// (same names, same elements, same owner comments: addresses, routed host veths, bridge ports) and the
/// same chains and rules as its plugin table, taken from the plugin's own <see cref="WantedStructure"/>;
/// only its base chains sit one priority step later (inet −149 after the plugin's −150, before DNAT at −100
/// and the routing decision; its <c>replies</c> chain −150 after −151; bridge −199 after −200).</para>
///
/// <para><b>Why double marking is harmless.</b> Both tables compute mark = (mark &amp; ~M) | V with the same
/// M and V, which is idempotent: a packet marked by both carries exactly the bits it would carry with one.
/// Running after the plugin's chain means the guard also overrides a plugin mark rule that someone rewrote
/// to another value, for the bits inside the mask. The reply-direction return and the connmark save/restore
/// are copied too (saving the same masked value twice, restoring it twice, changes nothing), so the pod's
/// own flows are marked, replies of connections opened to the pod are not, in either table.</para>
///
/// <para><b>How it follows the plugin.</b> The agent subscribes to nf_tables notifications and replays the
/// plugin's element additions and deletions, of both of its tables, into an <see cref="ElementMirror"/>, then
/// into the guards (an ifname set's 16-byte keys are decoded as names, chosen by the set's name, since the
/// notification does not say the key type and an IPv6 address has the same length). Table
/// or set deletions are not replayed: they are what the guard is for. Because the kernel emits notifications
/// in commit order, the mirror at the moment the agent reads a "table deleted" notification equals the
/// plugin's table at the moment it was deleted: that is what the agent restores (see
/// <see cref="MainTableRepair"/>).</para>
///
/// <para><b>Races it is built for.</b> (1) A flush while pods are marked: the guard keeps marking, so no
/// packet of a guarded pod is unmarked at any time. (2) A plugin ADD/DEL that runs after the flush and before
/// the agent's restore: the plugin sees its table missing while the guard holds sets, and waits (bounded)
/// for the agent's restore instead of building a fresh table (<see cref="AgentHandoff"/>); so a DEL is never
/// lost by acting on an empty table, and the restore never resurrects an element deleted after the flush.
/// A flush in the middle of a plugin's plan changes the ruleset generation: the commit is refused and the
/// re-plan waits for the restore too; a plan that found nothing to do counts only when the generation did
/// not move while it was made (<see cref="GenerationChecked"/>), else a DEL that saw the table vanish
/// mid-plan would succeed and the restore bring its element back.
/// The bridge table can be lost alone (`nft delete table bridge fwmark`): the plugin's wait and the agent's
/// restore look at each table separately, and a restore re-creates exactly the missing ones in one batch.
/// (3) Someone (an old plugin, a timed-out waiter) re-created a table first: the agent's lock-free restore
/// creates each missing table with NLM_F_EXCL in the same batch as everything else, so it fails whole, and the
/// agent falls back to a repair under the plugin's lock (the plugin's own structure repair of both tables)
/// that adds what the mirror holds and the tables lack.
/// (4) The agent's own changes: they carry its socket's port id and are not replayed or reacted to.
/// (5) Notifications lost to a full receive queue (ENOBUFS): the agent reloads the mirror from whichever of
/// the plugin's tables exist, under the lock (a table missing at that moment keeps its mirrored part).
/// (6) The bridge guard appears after the first bridge-port ADD: the mirror learns the port set from the ADD's
/// notification and the next sync creates the bridge guard with that element in one transaction; until then
/// (the mirroring delay) that pod is guarded only by the plugin's table, as any new pod is.</para>
///
/// <para><b>Not covered.</b> A pod ADDed within the agent's mirroring delay (sub-millisecond to a few ms)
/// before a flush is unguarded until the agent restores it. A single element deleted by hand (`nft delete
/// element`, `nft flush set`) looks exactly like a plugin DEL in the notification stream and is mirrored as
/// one; the attachment record (issue 8, item 1) is the source that can tell them apart.</para>
/// </summary>
internal sealed class GuardTable : IDisposable
{
    public static readonly NftTable Table = new(NfNetlink.FamilyInet, "fwmark-guard");

    /// <summary>The guard of `bridge fwmark` (bridge-port keys), made once the plugin has a bridge table.</summary>
    public static readonly NftTable BridgeTable = new(NfNetlink.FamilyBridge, "fwmark-guard");

    /// <summary>How much later than the plugin's each guard base chain runs (mangle −150 → −149, bridge −200 → −199, replies −151 → −150).</summary>
    public const int PriorityStep = 1;

    /// <summary>The guard's prerouting priority in the inet family: one step after the plugin's (mangle, −150).</summary>
    public const int Priority = -150 + PriorityStep;

    private readonly NetlinkConversation _owner;
    private Copy _inet = new();
    private Copy _bridge = new();

    private readonly StructureClaimFile? _claims;

    /// <param name="owner">The socket that creates and owns the tables; every change must go through it.</param>
    /// <param name="claims">The plugin's structure claims (Dataplane/StructureClaim.cs), to keep valid across the
    /// guard's commits; null: leave them alone.</param>
    public GuardTable(NetlinkConversation owner, StructureClaimFile? claims = null)
    {
        _owner = owner;
        _claims = claims;
    }

    public int ElementCount => _inet.Count + _bridge.Count;

    /// <summary>
    /// Makes the guard tables hold exactly what <paramref name="mirror"/> holds, in one transaction (nothing
    /// when they already do). The first call creates the owned inet table (and the bridge one once the plugin
    /// has a bridge table); it fails with EEXIST (or EPERM) when another agent's guard exists in this
    /// network namespace.
    /// </summary>
    public int Sync(ElementMirror mirror)
    {
        var chains = mirror.MarkChains;
        var transaction = new NftTransaction(Table);
        var (inet, changes) = Plan(transaction, _inet, Table, RulesetShape.Inet(chains, PriorityStep), mirror, FwmarkRuleset.Table);
        var bridge = _bridge;
        if (mirror.HasBridge)
        {
            (bridge, var bridgeChanges) = Plan(transaction, _bridge, BridgeTable, RulesetShape.Bridge(chains, PriorityStep), mirror, InterfaceRuleset.BridgeTable);
            changes += bridgeChanges;
        }

        if (transaction.IsEmpty)
        {
            return 0;
        }

        CommitKeepingClaim(transaction);
        _inet = inet;
        _bridge = bridge;
        return changes;
    }

    /// <summary>
    /// Commits a change of the guard tables only. Every commit moves the generation on, which would void the plugin's
    /// structure claim after each pod's ADD (the guard mirrors it right after). So when a claim names the generation
    /// now, the commit carries that generation: if the kernel takes it, nothing else was committed in between, the
    /// plugin's tables are as claimed one generation later, and the claim moves on with it. Otherwise (someone
    /// committed in between) the commit is made as always and the claim lapses.
    /// </summary>
    private void CommitKeepingClaim(NftTransaction transaction)
    {
        if (_claims is not null && ClaimNow(_owner.Transport.NetnsCookie) is { } claim)
        {
            try
            {
                transaction.Commit(_owner, claim.Generation);
                if (claim.Next() is { } next)
                {
                    _claims.Write(next);
                }

                return;
            }
            catch (NftGenerationChangedException)
            {
                // Someone committed after the claim's generation: it no longer holds; commit as always.
            }
        }

        transaction.Commit(_owner);
    }

    /// <summary>
    /// The claim for the generation now. The guard mirrors an element as soon as the plugin's commit is announced,
    /// which is before that plugin has written its claim for the generation its commit made (measured: the guard
    /// lost that race in 4 of 6 ADDs). So when the file's claim is exactly one generation behind, the claim is
    /// looked for again, for at most <see cref="ClaimWait"/>: a bounded delay of this one mirror commit, only then.
    /// </summary>
    private StructureClaim? ClaimNow(ulong? netns)
    {
        // No claim on file (the usual case without a healthy plugin call since the last change): no GETGEN either.
        if (_claims!.Peek(netns) is not { } claim)
        {
            return null;
        }

        var generation = new NftClient(_owner, Table).GetGeneration();
        for (var waited = TimeSpan.Zero; claim is not null; waited += ClaimPoll)
        {
            if (claim.Generation == generation)
            {
                return claim;
            }

            if (waited >= ClaimWait || claim.Generation != generation - 1)
            {
                return null;
            }

            Thread.Sleep(ClaimPoll);
            claim = _claims.Peek(netns);
        }

        return null;
    }

    private static readonly TimeSpan ClaimWait = TimeSpan.FromMilliseconds(3);

    private static readonly TimeSpan ClaimPoll = TimeSpan.FromMilliseconds(1);

    /// <summary>After a failed commit: re-learn what the guard tables really hold (reads are allowed to anyone).</summary>
    public void Relearn()
    {
        _inet = Read(Table);
        _bridge = Read(BridgeTable);
    }

    public void Dispose() => _owner.Dispose();

    /// <summary>
    /// Queues what turns guard table <paramref name="guard"/> from <paramref name="have"/> into <paramref name="want"/>
    /// with the elements the mirror holds for <paramref name="plugin"/>; returns what the guard holds after the commit
    /// and how many elements changed. A chain whose rules are right is left alone; a changed one (prerouting, replies
    /// after a new mark) is flushed and refilled in the same transaction, so the guard never loses a lookup it had.
    /// </summary>
    private static (Copy Next, int Changes) Plan(NftTransaction transaction, Copy have, NftTable guard, WantedStructure want, ElementMirror mirror, NftTable plugin)
    {
        Func<NftOperation, NftOperation> route = guard == Table ? op => op : op => new OnTableOp(guard, op);
        var next = new Copy { Created = true };
        if (!have.Created)
        {
            transaction.Add(route(new CreateTableOp(TableFlags.Owner)));
        }

        foreach (var set in want.Sets.Where(s => !have.Keys.ContainsKey(s.Name)))
        {
            transaction.Add(route(new AddSetOp(set)));
        }

        foreach (var wanted in want.Chains.Where(c => !have.Rules.ContainsKey(c.Chain.Name)))
        {
            transaction.Add(route(new AddChainOp(wanted.Chain)));
        }

        foreach (var wanted in RulesetShape.PreroutingLast(want.Chains))
        {
            var fingerprints = wanted.Rules.Select(r => r.Fingerprint).ToList();
            next.Rules[wanted.Chain.Name] = fingerprints;
            var old = have.Rules.GetValueOrDefault(wanted.Chain.Name);
            if (old is not null && old.SequenceEqual(fingerprints))
            {
                continue;
            }

            if (old is { Count: > 0 })
            {
                transaction.Add(route(new FlushChainOp(wanted.Chain.Name)));
            }

            foreach (var rule in wanted.Rules)
            {
                transaction.Add(route(new AddRuleOp(rule)));
            }
        }

        var changes = 0;
        foreach (var set in want.Sets)
        {
            var keys = mirror.Keys(plugin, set);
            var held = have.Keys.GetValueOrDefault(set.Name) ?? [];
            foreach (var (key, _) in held.Where(e => !keys.TryGetValue(e.Key, out var c) || c != e.Value))
            {
                transaction.Add(route(AddElementsOp.DeleteKey(set, key)));
                changes++;
            }

            changes += AddElementsOp.QueueKeys(transaction, set, keys.Where(e => !held.TryGetValue(e.Key, out var c) || c != e.Value).Select(e => (e.Key, e.Value)), route);
            next.Keys[set.Name] = keys;
        }

        return (next, changes);
    }

    /// <summary>What guard table <paramref name="guard"/> holds now, read back from the kernel.</summary>
    private Copy Read(NftTable guard)
    {
        var client = new NftClient(_owner, guard);
        if (!client.TableExists())
        {
            return new Copy();
        }

        var copy = new Copy { Created = true };
        foreach (var chain in client.DumpRules().GroupBy(r => r.Chain))
        {
            copy.Rules[chain.Key] = [.. chain.Select(r => r.Fingerprint)];
        }

        var names = new NftNameSetClient(_owner, guard);
        foreach (var set in client.DumpSetNames())
        {
            copy.Keys[set] = NftEvent.IsNameSet(set)
                ? names.DumpElements(set).ToDictionary(e => e.Name, e => e.Comment, StringComparer.Ordinal)
                : client.DumpElements(set).ToDictionary(e => e.Key.ToString(), e => e.Comment, StringComparer.Ordinal);
        }

        return copy;
    }

    /// <summary>What one guard table holds: whether it exists, each chain's rules (fingerprints), each set's keys (as text) with comments.</summary>
    private sealed class Copy
    {
        public bool Created { get; init; }

        public Dictionary<string, List<string>> Rules { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Dictionary<string, string?>> Keys { get; } = new(StringComparer.Ordinal);

        public int Count => Keys.Values.Sum(k => k.Count);
    }
}
