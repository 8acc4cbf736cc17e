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
    /// Under the plugin's lock, with the mirror up to date: makes the table exactly the plugin's structure
    /// again with the same exact comparison and repair ADD and `fwmark reconcile` use (<see cref="StructureRepair"/>:
    /// table flags, chain type/hook/priority/policy, every rule's expressions and operands, set key types and
    /// flags), and adds every wanted element the table lacks. Elements the table has and the mirror lacks are
    /// learned (the plugin's table is the primary). Returns one line per repair (empty when the table was whole).
    /// </summary>
    public static List<string> Repair(NetlinkConversation socket, ElementMirror mirror, IReadOnlyList<string> configuredChains, IAttachmentRecordSource records)
    {
        // One read of the records per repair (a file per attachment), not one per use below.
        var record = new Snapshot(records.Attachments());
        var client = new NftClient(socket, FwmarkRuleset.Table);
        var state = new NftClientState(client);
        var have = state.Structure();
        var chains = ChainsOf(mirror, configuredChains, have.SetNames, record);
        if (chains.Count == 0)
        {
            return [];
        }

        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var structure = StructureRepair.Plan(state, transaction, have, WantedStructure.For(chains));
        var repaired = structure.Drifts.Select(d => d.Problem).ToList();
        var existingSets = have.SetNames.ToHashSet(StringComparer.Ordinal);
        var present = new Dictionary<string, Dictionary<IPAddress, string?>>(StringComparer.Ordinal);
        foreach (var set in chains.SelectMany(FwmarkRuleset.SetsOf))
        {
            // A set the repair re-makes holds, after the commit, what the repair put back into it.
            present[set.Name] = structure.RemadeSets.TryGetValue(set.Name, out var kept) ? kept.ToDictionary(e => e.Key, e => e.Comment)
                : existingSets.Contains(set.Name) ? client.DumpElements(set.Name).ToDictionary(e => e.Key, e => e.Comment)
                : [];
            foreach (var (key, comment) in present[set.Name])
            {
                if (!mirror.Elements(set.Name).TryGetValue(key, out var known) || known != comment)
                {
                    mirror.Put(set.Name, key, comment);
                }
            }
        }

        var restored = new List<NftElement>();
        foreach (var group in Wanted(mirror, chains, record).Where(w => !present[w.Set].ContainsKey(w.Key)).GroupBy(w => w.Set))
        {
            var elements = group.Select(w => new NftElement(w.Set, w.Key, w.Comment)).ToList();
            AddElementsOp.Queue(transaction, group.Key, elements);
            restored.AddRange(elements);
        }

        if (restored.Count > 0)
        {
            repaired.Add($"{restored.Count} element(s) were missing");
        }

        transaction.Commit(socket);
        // The agent's own additions are not replayed from the notifications (its port is skipped): what came from
        // the records must enter the mirror here, or the guard would never hold it and the next restore lose it.
        foreach (var element in restored)
        {
            mirror.Put(element.Set, element.Key, element.Comment);
        }

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

    private sealed class Snapshot(IReadOnlyList<RecordedAttachment> attachments) : IAttachmentRecordSource
    {
        public IReadOnlyList<RecordedAttachment> Attachments() => attachments;
    }
}
