using System.Net;
using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// Every decision of <see cref="NftDataplane"/>, without the kernel: reads what it needs through an
/// <see cref="INftState"/> and returns the <see cref="NftTransaction"/> that gets the table there. Pure,
/// so each decision is tested by comparing <see cref="NftTransaction.Render"/> with nft text.
/// Ownership rules (who may delete which element) are described on <see cref="NftDataplane"/>.
/// </summary>
internal static class NftPlanner
{
    /// <summary>
    /// Marks <paramref name="addresses"/> for <paramref name="owner"/> with <paramref name="mark"/>: the
    /// structure is made whole first, then each address ends up in exactly one set, its mark's, with
    /// the owner's tag. Throws <see cref="DataplaneException"/> (Conflict) when the table holds sets
    /// this build did not name.
    /// </summary>
    public static NftTransaction Install(INftState state, AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark)
    {
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var structure = state.Structure();
        var setNames = structure.SetNames.ToList();
        if (FwmarkRuleset.UnknownSets(setNames) is { Count: > 0 } unknown)
        {
            // Another fwmark build made them: rewriting prerouting without their lookups would
            // leave their pods unmarked, so refuse rather than guess.
            throw new DataplaneException(DataplaneFailure.Conflict,
                $"failed to install mark {mark.Name} for {Describe(owner)}: table {FwmarkRuleset.Table} holds set(s) {string.Join(", ", unknown)} that this fwmark version did not make",
                "another fwmark version programmed this node; upgrade or downgrade every node component to one version, or remove the table (nft delete table inet fwmark) while no pod needs it");
        }

        var markChains = FwmarkRuleset.MarkChains(setNames, mark.ChainName);
        var repair = StructureRepair.Plan(state, transaction, structure, WantedStructure.For(markChains));
        foreach (var address in addresses.Distinct())
        {
            var home = FwmarkRuleset.SetFor(address, mark.ChainName);
            var keep = false;
            foreach (var chain in markChains)
            {
                var set = FwmarkRuleset.SetFor(address, chain);
                var existing = repair.GetElement(state, set.Name, address);
                if (existing is null)
                {
                    continue;
                }

                if (set == home && IsOwnedBy(existing, owner))
                {
                    keep = true;
                    continue;
                }

                // IP reuse (or a changed mark): the newest attachment of an address wins.
                transaction.Add(new DeleteElementOp(new NftElement(set.Name, address)));
            }

            if (!keep)
            {
                transaction.Add(new AddElementOp(new NftElement(home.Name, address, owner.Tag)));
            }
        }

        return transaction;
    }

    /// <summary>
    /// Deletes what <paramref name="owner"/> installed. With addresses: one O(1) lookup per mark set of
    /// the family. Without (DEL lost its prevResult): every set is scanned for the owner's tag.
    /// </summary>
    public static NftTransaction Remove(INftState state, AttachmentOwner owner, IReadOnlyList<IPAddress>? addresses)
    {
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var markChains = FwmarkRuleset.MarkChains(state.SetNames());
        var found = addresses is null
            ? markChains.SelectMany(FwmarkRuleset.SetsOf)
                .SelectMany(set => state.Elements(set.Name).Select(e => (set, (NftElementInfo?)e)))
            : addresses.Distinct().SelectMany(address => markChains
                .Select(chain => FwmarkRuleset.SetFor(address, chain))
                .Select(set => (set, state.Element(set.Name, address))));
        foreach (var (set, element) in found)
        {
            if (element is not null && IsOwnedBy(element, owner))
            {
                transaction.Add(new DeleteElementOp(new NftElement(set.Name, element.Key)));
            }
        }

        return transaction;
    }

    /// <summary>Deletes every element tagged with <paramref name="network"/> whose owner is not in <paramref name="valid"/>.</summary>
    public static NftTransaction Collect(INftState state, string network, IReadOnlyCollection<AttachmentOwner> valid)
    {
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var validKeys = valid.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var set in FwmarkRuleset.MarkChains(state.SetNames()).SelectMany(FwmarkRuleset.SetsOf))
        {
            foreach (var element in state.Elements(set.Name))
            {
                if (element.Comment is not null
                    && AttachmentOwner.TagBelongsTo(element.Comment, network)
                    && AttachmentOwner.TryParseTag(element.Comment, out _, out var key)
                    && !validKeys.Contains(key))
                {
                    transaction.Add(new DeleteElementOp(new NftElement(set.Name, element.Key)));
                }
            }
        }

        return transaction;
    }

    /// <summary>True when the element's comment is <paramref name="owner"/>'s tag.</summary>
    public static bool IsOwnedBy(NftElementInfo element, AttachmentOwner owner) =>
        element.Comment is not null
        && AttachmentOwner.TryParseTag(element.Comment, out _, out var key)
        && key == owner.Key;

    /// <summary>"network/container/ifname" for messages.</summary>
    public static string Describe(AttachmentOwner owner) => $"{owner.Network}/{owner.ContainerId}/{owner.IfName}";
}
