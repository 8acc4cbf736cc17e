using System.Net;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The agent's owned guard table: a second copy of the plugin's marking that nothing but the agent can
/// flush, delete or make dormant.
///
/// <para><b>Who owns what.</b> The plugin owns <c>table inet fwmark</c> (the primary: it works with or
/// without an agent, and every ADD/DEL/GC writes only there, under the flock). The agent owns
/// <c>table inet fwmark-guard</c>, created with NFT_TABLE_F_OWNER on one netlink socket the agent keeps
/// open for its whole life: the kernel refuses every change to it from any other socket (EPERM — also
/// `nft delete table` and `add table ... { flags dormant; }`), skips it in `nft flush ruleset`, and
/// deletes it when that socket closes (the agent exits or dies), so a guard never outlives its agent.
/// The guard holds the same sets (same names, same elements, same owner comments) and the same chains
/// and rules; only its base chains sit one priority step later (−149, after the plugin's −150 and still
/// before DNAT at −100 and the routing decision).</para>
///
/// <para><b>Why double marking is harmless.</b> Both tables compute mark = (mark &amp; ~M) | V with the same
/// M and V, which is idempotent: a packet marked by both carries exactly the bits it would carry with one.
/// Running after the plugin's chain means the guard also overrides a plugin mark rule that someone rewrote
/// to another value, for the bits inside the mask. The reply-direction return and the connmark save/restore
/// are copied too (saving the same masked value twice, restoring it twice, changes nothing), so the pod's
/// own flows are marked, replies of connections opened to the pod are not, in either table.</para>
///
/// <para><b>How it follows the plugin.</b> The agent subscribes to nf_tables notifications and replays the
/// plugin's element additions and deletions into an <see cref="ElementMirror"/>, then into the guard. Table
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
/// (3) Someone (an old plugin, a timed-out waiter) re-created the table first: the agent's lock-free restore
/// creates the table with NLM_F_EXCL in the same batch as everything else, so it fails whole, and the agent
/// falls back to a repair under the plugin's lock that adds what the mirror holds and the table lacks.
/// (4) The agent's own changes: they carry its socket's port id and are not replayed or reacted to.
/// (5) Notifications lost to a full receive queue (ENOBUFS): the agent reloads the mirror from the plugin's
/// table under the lock.</para>
///
/// <para><b>Not covered.</b> A pod ADDed within the agent's mirroring delay (sub-millisecond to a few ms)
/// before a flush is unguarded until the agent restores it. A single element deleted by hand (`nft delete
/// element`, `nft flush set`) looks exactly like a plugin DEL in the notification stream and is mirrored as
/// one; the attachment record (issue 8, item 1) is the source that can tell them apart.</para>
/// </summary>
internal sealed class GuardTable : IDisposable
{
    public static readonly NftTable Table = new(NfNetlink.FamilyInet, "fwmark-guard");

    /// <summary>One step after the plugin's base chains (mangle, −150).</summary>
    public const int Priority = -149;

    private readonly NetlinkConversation _owner;
    private readonly Dictionary<string, Dictionary<IPAddress, string?>> _installed = new(StringComparer.Ordinal);
    private List<string> _chains = [];
    private bool _created;

    /// <param name="owner">The socket that creates and owns the table; every change must go through it.</param>
    public GuardTable(NetlinkConversation owner) => _owner = owner;

    public int ElementCount => _installed.Values.Sum(s => s.Count);

    /// <summary>
    /// Makes the guard hold exactly what <paramref name="mirror"/> holds, in one transaction (nothing
    /// when it already does). The first call creates the owned table; it fails with EEXIST (or EPERM)
    /// when another agent's guard exists in this network namespace.
    /// </summary>
    public int Sync(ElementMirror mirror)
    {
        var transaction = new NftTransaction(Table);
        var chains = mirror.MarkChains;
        if (!_created)
        {
            transaction.Add(new CreateTableOp(TableFlags.Owner));
            RulesetShape.Build(transaction, chains, Priority);
        }
        else if (!chains.SequenceEqual(_chains))
        {
            // A new mark chain: its sets and chains, then prerouting rewritten in the same transaction,
            // so at no point does the guard lose a lookup it had.
            foreach (var chain in chains.Except(_chains))
            {
                foreach (var set in FwmarkRuleset.SetsOf(chain))
                {
                    transaction.Add(new AddSetOp(set));
                }
            }

            var wanted = RulesetShape.For(chains, Priority);
            foreach (var (chain, _) in wanted)
            {
                transaction.Add(new AddChainOp(chain));
            }

            foreach (var (chain, rules) in wanted.OrderBy(w => w.Chain.Name == FwmarkRuleset.Prerouting.Name))
            {
                var isNew = chain.Name != FwmarkRuleset.Prerouting.Name && !_chains.Any(c => IsChainOf(c, chain.Name));
                if (chain.Name == FwmarkRuleset.Prerouting.Name || isNew)
                {
                    if (!isNew)
                    {
                        transaction.Add(new FlushChainOp(chain.Name));
                    }

                    foreach (var rule in rules)
                    {
                        transaction.Add(new AddRuleOp(rule));
                    }
                }
            }
        }

        var changes = 0;
        foreach (var set in chains.SelectMany(FwmarkRuleset.SetsOf))
        {
            var want = mirror.Elements(set.Name);
            var have = _installed.TryGetValue(set.Name, out var h) ? h : [];
            foreach (var (key, _) in have.Where(e => !want.TryGetValue(e.Key, out var c) || c != e.Value))
            {
                transaction.Add(new DeleteElementOp(new NftElement(set.Name, key)));
                changes++;
            }

            var added = want.Where(e => !have.TryGetValue(e.Key, out var c) || c != e.Value)
                .Select(e => new NftElement(set.Name, e.Key, e.Value))
                .ToList();
            AddElementsOp.Queue(transaction, set.Name, added);
            changes += added.Count;
        }

        if (transaction.IsEmpty)
        {
            return 0;
        }

        transaction.Commit(_owner);
        _created = true;
        _chains = chains;
        _installed.Clear();
        foreach (var set in chains.SelectMany(FwmarkRuleset.SetsOf))
        {
            _installed[set.Name] = new Dictionary<IPAddress, string?>(mirror.Elements(set.Name));
        }

        return changes;
    }

    /// <summary>After a failed commit: re-learn what the guard really holds (reads are allowed to anyone).</summary>
    public void Relearn()
    {
        var client = new NftClient(_owner, Table);
        _created = client.TableExists();
        _installed.Clear();
        if (!_created)
        {
            _chains = [];
            return;
        }

        var names = client.DumpSetNames();
        _chains = FwmarkRuleset.MarkChains(names);
        foreach (var set in _chains.SelectMany(FwmarkRuleset.SetsOf))
        {
            _installed[set.Name] = client.DumpElements(set.Name).ToDictionary(e => e.Key, e => e.Comment);
        }
    }

    public void Dispose() => _owner.Dispose();

    /// <summary>Whether base or mark chain <paramref name="chainName"/> belongs to mark chain <paramref name="markChain"/>.</summary>
    private static bool IsChainOf(string markChain, string chainName) =>
        chainName == markChain
        || (FwmarkRuleset.ParseMarkChain(markChain) is { Connmark: true } mark && ConnmarkRules.RestoreChain(mark).Name == chainName);
}
