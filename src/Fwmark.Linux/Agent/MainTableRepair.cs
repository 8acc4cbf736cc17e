using Fwmark.Core.Agent;
using Fwmark.Core.Paths;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// Puts the plugin's tables back: `inet fwmark` with the structure for every mark chain the agent knows of
/// (mirrored sets, marks in the conflists, recorded attachments), and `bridge fwmark` once the plugin had made
/// it, with every element the mirror (and the attachment record source) holds. The structure is the plugin's
/// own (<see cref="WantedStructure"/>, repaired by <see cref="StructureRepair"/>), so a restore is exactly what
/// the plugin's next ADD would make. See <see cref="GuardTable"/> for why the mirror is the right source at
/// the moment of a flush.
/// </summary>
internal static class MainTableRepair
{
    /// <summary>
    /// A table is gone: rebuild every missing one whole, in one batch that begins with an exclusive create of
    /// each, without the plugin's lock. Plugins that find a table missing while its guard holds sets wait for
    /// this instead of writing (<see cref="AgentHandoff"/>), so the lock is not needed; if anyone created a
    /// table anyway, the batch fails whole and the caller repairs under the lock. Returns the number of
    /// elements restored, or null when both tables exist (or there is nothing to restore).
    /// </summary>
    public static int? TryRestoreMissing(NetlinkConversation socket, ElementMirror mirror, IReadOnlyList<string> configuredChains, IAttachmentRecordSource record)
    {
        var chains = ChainsOf(mirror, configuredChains, [], record);
        var inetMissing = TableReader.Flags(socket, FwmarkRuleset.Table) is null;
        var bridgeMissing = mirror.HasBridge && TableReader.Flags(socket, InterfaceRuleset.BridgeTable) is null;
        if (chains.Count == 0 || !(inetMissing || bridgeMissing))
        {
            return null;
        }

        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var restored = 0;
        if (inetMissing)
        {
            transaction.Add(new CreateTableOp(0));
            restored += Build(transaction, RulesetShape.Inet(chains), mirror, record, op => op);
        }

        if (bridgeMissing)
        {
            transaction.Add(NftTables.OnBridge(new CreateTableOp(0)));
            restored += Build(transaction, RulesetShape.Bridge(chains), mirror, record, NftTables.OnBridge);
        }

        try
        {
            transaction.Commit(socket);
        }
        catch (NftException e) when (e.Operation is CreateTableOp or OnTableOp { Inner: CreateTableOp } && e.Cause.Errno == Errno.EEXIST)
        {
            return null;
        }

        return restored;
    }

    /// <summary>
    /// Under the plugin's lock, with the mirror up to date: repairs both tables exactly as the plugin's ADD would
    /// (a missing or dormant table, missing or reshaped sets and chains, rules that differ, foreign chains) and
    /// adds every wanted element a table lacks. Elements a table has and the mirror lacks are learned (the
    /// plugin's tables are the primary). Returns one line per repair (empty when the tables were whole).
    /// </summary>
    public static List<string> Repair(NetlinkConversation socket, ElementMirror mirror, IReadOnlyList<string> configuredChains, IAttachmentRecordSource records)
    {
        // One read of the records per repair (a file per attachment), not one per use below.
        var record = new Snapshot(records.Attachments());
        var tables = new NftTables(socket);
        var state = new NftClientState(tables);
        var inet = state.Structure();
        var chains = ChainsOf(mirror, configuredChains, inet.TableExists ? inet.SetNames : [], record);
        var repaired = new List<string>();
        if (chains.Count == 0)
        {
            return repaired;
        }

        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var inetRepair = StructureRepair.Plan(state, transaction, inet, RulesetShape.Inet(chains));
        repaired.AddRange(inetRepair.Drifts.Select(d => d.Problem));
        var restored = Restore(transaction, state, inet, inetRepair, FwmarkRuleset.Table, RulesetShape.Inet(chains), mirror, record, op => op);
        if (mirror.HasBridge || state.BridgeExists() || record.Attachments().Any(a => a.Path?.Keying == MarkKeying.BridgePort))
        {
            var bridge = state.BridgeStructure();
            var bridgeRepair = StructureRepair.Plan(state, transaction, bridge, RulesetShape.Bridge(chains));
            repaired.AddRange(bridgeRepair.Drifts.Select(d => d.Problem));
            restored += Restore(transaction, state, bridge, bridgeRepair, InterfaceRuleset.BridgeTable, RulesetShape.Bridge(chains), mirror, record, NftTables.OnBridge);
        }

        if (restored > 0)
        {
            repaired.Add($"{restored} element(s) were missing");
        }

        if (!transaction.IsEmpty)
        {
            transaction.Commit(socket);
        }

        return repaired;
    }

    /// <summary>Queues the whole structure of a missing table and every wanted element; returns how many elements.</summary>
    private static int Build(NftTransaction transaction, WantedStructure want, ElementMirror mirror, IAttachmentRecordSource record, Func<NftOperation, NftOperation> route)
    {
        RulesetShape.Build(transaction, want, route);
        var restored = 0;
        foreach (var set in want.Sets)
        {
            restored += AddElementsOp.QueueKeys(transaction, set, Wanted(mirror, want.Table, set, record).Select(k => (k.Key, k.Value)), route);
        }

        return restored;
    }

    /// <summary>
    /// Learns the elements the table has into the mirror and queues the wanted ones it lacks. A set the repair
    /// re-makes reads from what the repair puts back, not from the kernel, which still shows the old set.
    /// </summary>
    private static int Restore(NftTransaction transaction, INftState state, NftTableSnapshot existing, StructureRepair.Result repair, NftTable table, WantedStructure want, ElementMirror mirror, IAttachmentRecordSource record, Func<NftOperation, NftOperation> route)
    {
        var setNames = existing.TableExists ? existing.SetNames.ToHashSet(StringComparer.Ordinal) : [];
        var restored = 0;
        foreach (var set in want.Sets)
        {
            var present = Present(state, repair, table, set, setNames.Contains(set.Name));
            foreach (var (key, comment) in present)
            {
                mirror.PutKey(table, set, key, comment);
            }

            var missing = Wanted(mirror, table, set, record).Where(w => !present.ContainsKey(w.Key)).ToList();
            restored += AddElementsOp.QueueKeys(transaction, set, missing.Select(w => (w.Key, w.Value)), route);
            // The agent's own additions are not replayed from the notifications (its port is skipped): what comes
            // from the records must enter the mirror here, or the guard would never hold it and the next restore
            // from the mirror would lose it again.
            foreach (var (key, comment) in missing)
            {
                mirror.PutKey(table, set, key, comment);
            }
        }

        return restored;
    }

    private static Dictionary<string, string?> Present(INftState state, StructureRepair.Result repair, NftTable table, NftAddressSet set, bool exists)
    {
        if (repair.RemadeSets.TryGetValue(set.Name, out var kept))
        {
            return kept.ToDictionary(e => e.Key.ToString(), e => e.Comment, StringComparer.Ordinal);
        }

        if (!exists)
        {
            return new Dictionary<string, string?>(StringComparer.Ordinal);
        }

        return set.Key == NftKeyType.IfName
            ? state.NameElements(table, set.Name).ToDictionary(e => e.Name, e => e.Comment, StringComparer.Ordinal)
            : state.Elements(set.Name).ToDictionary(e => e.Key.ToString(), e => e.Comment, StringComparer.Ordinal);
    }

    private static List<string> ChainsOf(ElementMirror mirror, IReadOnlyList<string> configuredChains, IEnumerable<string> setNames, IAttachmentRecordSource record) =>
        FwmarkRuleset.MarkChains(mirror.SetNames
            .Concat(setNames)
            .Concat(configuredChains.Concat(record.Attachments().Select(a => a.Mark.ChainName))
                .SelectMany(FwmarkRuleset.SetsOf).Select(s => s.Name)));

    /// <summary>
    /// Every key <paramref name="set"/> of the plugin's <paramref name="table"/> should hold: the mirror's, plus the
    /// keys of recorded attachments the mirror lacks, each under the key its ADD used: the host interface's name in
    /// the bridge table's port set or the inet table's interface set, else its addresses in the address sets.
    /// </summary>
    private static Dictionary<string, string?> Wanted(ElementMirror mirror, NftTable table, NftAddressSet set, IAttachmentRecordSource record)
    {
        var wanted = mirror.Keys(table, set);
        foreach (var attachment in record.Attachments())
        {
            var chain = attachment.Mark.ChainName;
            if (attachment.HostInterface is { } name)
            {
                var (home, homeTable) = attachment.Path!.Keying == MarkKeying.BridgePort
                    ? (InterfaceRuleset.PortSet(chain), InterfaceRuleset.BridgeTable)
                    : (InterfaceRuleset.InterfaceSet(chain), FwmarkRuleset.Table);
                if (home.Name == set.Name && homeTable == table)
                {
                    wanted.TryAdd(name, attachment.OwnerTag);
                }
            }
            else if (set.Key != NftKeyType.IfName && table == FwmarkRuleset.Table)
            {
                foreach (var address in attachment.Addresses.Where(a => FwmarkRuleset.SetFor(a, chain).Name == set.Name))
                {
                    wanted.TryAdd(address.ToString(), attachment.OwnerTag);
                }
            }
        }

        return wanted;
    }

    private sealed class Snapshot(IReadOnlyList<RecordedAttachment> attachments) : IAttachmentRecordSource
    {
        public IReadOnlyList<RecordedAttachment> Attachments() => attachments;
    }
}
