using System.Net.Sockets;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// Queues, into the caller's transaction, whatever makes `inet fwmark` exactly
/// <see cref="WantedStructure"/> again, from the drift <see cref="NftDriftDetector"/> found. A
/// healthy table costs no writes, and a chain whose rules are right keeps them (and its counters).
///
/// Order inside the one transaction, and why:
/// 1. flush prerouting when a chain or set it refers to is about to be deleted, and flush every
///    foreign chain (their gotos and lookups would make the deletions fail with EBUSY);
/// 2. delete foreign chains, then chains of the wrong shape (hook, priority, policy: the kernel
///    cannot change a hook in place), then sets of the wrong type or flags;
/// 3. create the table (flags 0: this also wakes a dormant table), every set and chain (NEW
///    without NLM_F_EXCL leaves right ones alone), put the elements of re-made sets back;
/// 4. refill chains whose rules differ: mark chains first, prerouting (which jumps to them) last.
/// All of it commits or none of it, so no packet ever sees a half-repaired table.
/// </summary>
internal static class StructureRepair
{
    /// <summary>
    /// What the repair found and queued. <see cref="RemadeSets"/>: the sets it deletes and makes
    /// again, with the elements it puts back; later decisions of the same transaction must read a
    /// re-made set from here, not from the kernel, which still shows the old one.
    /// </summary>
    public sealed record Result(List<NftDrift> Drifts, Dictionary<string, List<NftElement>> RemadeSets)
    {
        /// <summary>Nothing found, nothing queued (a structure claimed exact).</summary>
        public static Result None() => new([], new Dictionary<string, List<NftElement>>(StringComparer.Ordinal));

        /// <summary>The element for <paramref name="address"/> in <paramref name="set"/> as it will be after the repair.</summary>
        public NftElementInfo? GetElement(INftState state, string set, System.Net.IPAddress address) =>
            RemadeSets.TryGetValue(set, out var kept)
                ? kept.Where(e => e.Key.Equals(address)).Select(e => new NftElementInfo(e.Key, e.Comment)).FirstOrDefault()
                : state.Element(set, address);
    }

    public static Result Plan(INftState state, NftTransaction into, NftTableSnapshot have, WantedStructure want)
    {
        var known = NftDriftDetector.Names(want);
        var drifts = have.TableExists
            ? NftDriftDetector.Compare(have, want, known)
            : [new NftDrift(NftDriftKind.MissingChain, want.Table.ToString(), $"table {want.Table} is missing")];
        var remade = new Dictionary<string, List<NftElement>>(StringComparer.Ordinal);
        if (drifts.Count == 0)
        {
            return new Result(drifts, remade);
        }

        // The bridge table's operations ride in the same transaction (and so the same generation check).
        var transaction = want.IsBridge ? new BridgeQueue(into) : new BridgeQueue(into, bridge: false);
        var of = (NftDriftKind kind) => drifts.Where(d => d.Kind == kind).Select(d => d.Object).ToHashSet(StringComparer.Ordinal);
        var foreign = of(NftDriftKind.ForeignChain);
        var reshaped = of(NftDriftKind.ChainShape);
        var resetSets = of(NftDriftKind.SetShape);
        var prerouting = FwmarkRuleset.Prerouting.Name;
        var existing = have.Chains.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);

        // 1. Nothing may refer to what is deleted below.
        var flushed = new HashSet<string>(StringComparer.Ordinal);
        var deletesReferenced = resetSets.Count > 0 || reshaped.Any(c => c != prerouting) || foreign.Count > 0;
        if (deletesReferenced && existing.Contains(prerouting) && !reshaped.Contains(prerouting))
        {
            transaction.Add(new FlushChainOp(prerouting));
            flushed.Add(prerouting);
        }

        foreach (var chain in foreign)
        {
            transaction.Add(new FlushChainOp(chain));
        }

        // 2. Deletions; the elements of a re-made set are read first so no other pod loses its mark.
        foreach (var chain in foreign.Concat(reshaped.OrderBy(c => c != prerouting)))
        {
            transaction.Add(new DeleteChainOp(chain));
        }

        var remadeNames = new List<NftNameElement>();
        foreach (var set in want.Sets.Where(s => resetSets.Contains(s.Name)))
        {
            if (set.Key == NftKeyType.IfName)
            {
                remadeNames.AddRange(ReadableNames(state, want.Table, set));
            }
            else
            {
                remade[set.Name] = ReadableElements(state, set);
            }

            transaction.Add(new DeleteSetOp(set.Name));
        }

        // 3. Create (idempotent for what is right), then restore.
        transaction.Add(new AddTableOp());
        foreach (var set in want.Sets)
        {
            transaction.Add(new AddSetOp(set));
        }

        foreach (var wanted in want.Chains)
        {
            transaction.Add(new AddChainOp(wanted.Chain));
        }

        foreach (var element in remade.Values.SelectMany(e => e))
        {
            transaction.Add(new AddElementOp(element));
        }

        foreach (var name in remadeNames)
        {
            transaction.Add(new AddNameElementOp(name));
        }

        // 4. Refill what is empty now or was wrong.
        var refill = drifts.Where(d => d.Kind is NftDriftKind.ChainRules or NftDriftKind.MissingChain).Select(d => d.Object)
            .Concat(reshaped).Concat(flushed)
            .ToHashSet(StringComparer.Ordinal);
        var tableMissing = !have.TableExists;
        foreach (var wanted in want.Chains.Where(c => tableMissing || refill.Contains(c.Chain.Name)).OrderBy(c => c.Chain.Name == prerouting))
        {
            var name = wanted.Chain.Name;
            if (existing.Contains(name) && !flushed.Contains(name) && !reshaped.Contains(name)
                && have.Rules.Any(r => r.Chain == name))
            {
                transaction.Add(new FlushChainOp(name));
            }

            foreach (var rule in wanted.Rules)
            {
                transaction.Add(new AddRuleOp(rule));
            }
        }

        return new Result(drifts, remade);
    }

    /// <summary>Queues into the caller's transaction, each operation addressed to the bridge table when the repair is of it.</summary>
    private sealed class BridgeQueue(NftTransaction into, bool bridge = true)
    {
        public void Add(NftOperation operation) => into.Add(bridge ? NftTables.OnBridge(operation) : operation);
    }

    /// <summary>The owner-tagged interface names of an ifname set about to be re-made (unreadable: none, as for addresses).</summary>
    private static List<NftNameElement> ReadableNames(INftState state, NftTable table, NftAddressSet set)
    {
        try
        {
            return
            [
                .. state.NameElements(table, set.Name)
                    .Where(e => e.Comment is not null && Core.AttachmentOwner.TryParseTag(e.Comment, out _, out _))
                    .Select(e => new NftNameElement(set.Name, e.Name, e.Comment)),
            ];
        }
        catch (Exception e) when (e is NetlinkFormatException or NftException)
        {
            return [];
        }
    }

    /// <summary>
    /// The elements of a set about to be re-made that are ours (an owner tag in the comment) and fit
    /// its proper key (an address of the set's family). Anything else in it is not an attachment:
    /// e.g. the end elements an interval set keeps. A set too broken to list loses its elements; the
    /// attachments' next ADD or a reconcile from the attachment record puts them back.
    /// </summary>
    private static List<NftElement> ReadableElements(INftState state, NftAddressSet set)
    {
        var family = set.Key == NftKeyType.IPv6Address ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        try
        {
            return
            [
                .. state.Elements(set.Name)
                    .Where(e => e.Key.AddressFamily == family && e.Comment is not null && Core.AttachmentOwner.TryParseTag(e.Comment, out _, out _))
                    .Select(e => new NftElement(set.Name, e.Key, e.Comment)),
            ];
        }
        catch (Exception e) when (e is NetlinkFormatException or NftException)
        {
            return [];
        }
    }
}
