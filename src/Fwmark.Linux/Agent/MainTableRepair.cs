using System.Net;
using Fwmark.Core.Agent;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// Puts the plugin's table back: the structure for every mark chain the agent knows of (mirrored sets,
/// marks in the conflists) and every element the mirror (and, once it exists, the attachment record)
/// holds. See <see cref="GuardTable"/> for why the mirror is the right source at the moment of a flush.
/// </summary>
internal static class MainTableRepair
{
    /// <summary>The plugin's base-chain priority (mangle), as in <see cref="FwmarkRuleset.Prerouting"/>.</summary>
    private static readonly int Priority = FwmarkRuleset.Prerouting.Hook!.Priority;

    /// <summary>
    /// The table is gone: rebuild it whole in one batch that begins with an exclusive create, without the
    /// plugin's lock. Plugins that find the table missing while the guard holds sets wait for this
    /// instead of writing (<see cref="AgentHandoff"/>), so the lock is not needed; if anyone created the
    /// table anyway, the batch fails whole and the caller repairs under the lock. Returns the number of
    /// elements restored, or null when the table exists (or there is nothing to restore).
    /// </summary>
    public static int? TryRestoreMissing(NetlinkConversation socket, ElementMirror mirror, IReadOnlyList<string> configuredChains, IAttachmentRecordSource record)
    {
        var chains = ChainsOf(mirror, configuredChains, [], record);
        if (chains.Count == 0 || TableReader.Flags(socket, FwmarkRuleset.Table) is not null)
        {
            return null;
        }

        var transaction = new NftTransaction(FwmarkRuleset.Table);
        transaction.Add(new CreateTableOp(0));
        RulesetShape.Build(transaction, chains, Priority);
        var restored = 0;
        foreach (var group in Wanted(mirror, chains, record).GroupBy(w => w.Set))
        {
            var elements = group.Select(w => new NftElement(w.Set, w.Key, w.Comment)).ToList();
            AddElementsOp.Queue(transaction, group.Key, elements);
            restored += elements.Count;
        }

        try
        {
            transaction.Commit(socket);
        }
        catch (NftException e) when (e.Operation is CreateTableOp && e.Cause.Errno == Errno.EEXIST)
        {
            return null;
        }

        return restored;
    }

    /// <summary>
    /// Under the plugin's lock, with the mirror up to date: repairs a dormant table, missing sets or
    /// chains, rules that differ from the plugin's, and adds every wanted element the table lacks.
    /// Elements the table has and the mirror lacks are learned (the plugin's table is the primary).
    /// Returns one line per repair (empty when the table was whole).
    /// </summary>
    public static List<string> Repair(NetlinkConversation socket, ElementMirror mirror, IReadOnlyList<string> configuredChains, IAttachmentRecordSource record)
    {
        var client = new NftClient(socket, FwmarkRuleset.Table);
        var repaired = new List<string>();
        var flags = TableReader.Flags(socket, FwmarkRuleset.Table);
        var setNames = flags is null ? [] : client.DumpSetNames().ToHashSet(StringComparer.Ordinal);
        var chains = ChainsOf(mirror, configuredChains, setNames, record);
        if (chains.Count == 0)
        {
            return repaired;
        }

        var transaction = new NftTransaction(FwmarkRuleset.Table);
        if (flags is null)
        {
            repaired.Add($"table {FwmarkRuleset.Table} was missing");
        }
        else if ((flags & TableFlags.Dormant) != 0)
        {
            repaired.Add($"table {FwmarkRuleset.Table} was dormant");
        }

        var rules = flags is null ? [] : client.DumpRules();
        var wanted = RulesetShape.For(chains, Priority);
        var broken = wanted
            .Select(w => (w.Chain, w.Rules, Present: rules.Where(r => r.Chain == w.Chain.Name).ToList()))
            .Where(w => !w.Present.Select(r => r.Fingerprint).SequenceEqual(w.Rules.Select(r => r.Fingerprint)))
            .ToList();
        var missingSets = chains.SelectMany(FwmarkRuleset.SetsOf).Where(s => !setNames.Contains(s.Name)).ToList();
        if (flags is not null)
        {
            repaired.AddRange(missingSets.Select(s => $"set {s.Name} was missing"));
            repaired.AddRange(broken.Select(b => $"chain {b.Chain.Name} did not hold the plugin's rules"));
        }

        if (repaired.Count > 0)
        {
            // NEWTABLE without NLM_F_EXCL updates the flags of an existing table: 0 wakes a dormant one.
            transaction.Add(new AddTableOp());
            // Only the missing ones: NEWSET on an existing set whose expressions differ (an older
            // fwmark's, without counters) is EEXIST and would fail the whole repair.
            foreach (var set in missingSets)
            {
                transaction.Add(new AddSetOp(set));
            }

            foreach (var (chain, _) in wanted)
            {
                transaction.Add(new AddChainOp(chain));
            }

            foreach (var (chain, chainRules, inKernel) in broken.OrderBy(b => b.Chain.Name == FwmarkRuleset.Prerouting.Name))
            {
                if (inKernel.Count > 0)
                {
                    transaction.Add(new FlushChainOp(chain.Name));
                }

                foreach (var rule in chainRules)
                {
                    transaction.Add(new AddRuleOp(rule));
                }
            }
        }

        var present = new Dictionary<string, Dictionary<IPAddress, string?>>(StringComparer.Ordinal);
        foreach (var set in chains.SelectMany(FwmarkRuleset.SetsOf))
        {
            present[set.Name] = setNames.Contains(set.Name)
                ? client.DumpElements(set.Name).ToDictionary(e => e.Key, e => e.Comment)
                : [];
            foreach (var (key, comment) in present[set.Name])
            {
                if (!mirror.Elements(set.Name).TryGetValue(key, out var known) || known != comment)
                {
                    mirror.Put(set.Name, key, comment);
                }
            }
        }

        var restored = 0;
        foreach (var group in Wanted(mirror, chains, record).Where(w => !present[w.Set].ContainsKey(w.Key)).GroupBy(w => w.Set))
        {
            var elements = group.Select(w => new NftElement(w.Set, w.Key, w.Comment)).ToList();
            AddElementsOp.Queue(transaction, group.Key, elements);
            restored += elements.Count;
        }

        if (restored > 0)
        {
            repaired.Add($"{restored} element(s) were missing");
        }

        transaction.Commit(socket);
        return repaired;
    }

    private static List<string> ChainsOf(ElementMirror mirror, IReadOnlyList<string> configuredChains, IEnumerable<string> setNames, IAttachmentRecordSource record) =>
        FwmarkRuleset.MarkChains(mirror.SetNames
            .Concat(setNames)
            .Concat(configuredChains.Concat(record.Attachments().Select(a => a.Mark.ChainName))
                .SelectMany(FwmarkRuleset.SetsOf).Select(s => s.Name)));

    /// <summary>Every element the plugin's table should hold: the mirror's, plus recorded attachments the mirror lacks.</summary>
    private static IEnumerable<(string Set, IPAddress Key, string? Comment)> Wanted(ElementMirror mirror, List<string> chains, IAttachmentRecordSource record)
    {
        var seen = new HashSet<(string, IPAddress)>();
        foreach (var set in chains.SelectMany(FwmarkRuleset.SetsOf))
        {
            foreach (var (key, comment) in mirror.Elements(set.Name))
            {
                seen.Add((set.Name, key));
                yield return (set.Name, key, comment);
            }
        }

        foreach (var attachment in record.Attachments())
        {
            foreach (var address in attachment.Addresses)
            {
                var set = FwmarkRuleset.SetFor(address, attachment.Mark.ChainName).Name;
                if (seen.Add((set, address)))
                {
                    yield return (set, address, attachment.OwnerTag);
                }
            }
        }
    }
}
