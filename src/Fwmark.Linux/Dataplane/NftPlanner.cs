using System.Net;
using Fwmark.Core;
using Fwmark.Core.Paths;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// Every decision of <see cref="NftDataplane"/>, without the kernel: reads what it needs through an
/// <see cref="INftState"/> and returns the <see cref="NftTransaction"/> that gets the tables there. Pure,
/// so each decision is tested by comparing <see cref="NftTransaction.Render"/> with nft text.
/// Ownership rules (who may delete which element) are described on <see cref="NftDataplane"/>; the
/// interface paths (bridge port, input interface) in docs/paths.md.
/// </summary>
internal static class NftPlanner
{
    /// <summary>The address path spelled with a plain address list.</summary>
    public static NftTransaction Install(INftState state, AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark) =>
        Install(state, owner, MarkTarget.ByAddress(addresses), mark);

    /// <summary>
    /// Marks <paramref name="target"/> for <paramref name="owner"/> with <paramref name="mark"/>: the
    /// structure is made whole first, then the attachment's key (its host interface on an interface
    /// path, each address on the address path) ends up in exactly one set, its mark's, with the owner's
    /// tag. Throws <see cref="DataplaneException"/> (Conflict) when the table holds sets this build did not name.
    /// </summary>
    public static NftTransaction Install(INftState state, AttachmentOwner owner, MarkTarget target, MarkSpec mark)
    {
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var (markChains, bridgeExists, repair) = MakeStructureWhole(state, transaction, owner, mark, target.Path.Keying == MarkKeying.BridgePort);

        foreach (var address in target.Addresses.Distinct())
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

                if (!target.IsInterface && set == home && IsOwnedBy(existing, owner))
                {
                    keep = true;
                    continue;
                }

                // Address path: IP reuse (or a changed mark), the newest attachment of an address wins.
                // Interface path: the address is not this attachment's key; only its own old element (a path
                // change) and a stale one of the same network (the IP was reused there) go. Another network's
                // element of the same address is another pod in an overlapping range and stays.
                if (!target.IsInterface || IsOwnedBy(existing, owner) || IsOfNetwork(existing.Comment, owner.Network))
                {
                    transaction.Add(new DeleteElementOp(new NftElement(set.Name, address)));
                }
            }

            if (!target.IsInterface && !keep)
            {
                transaction.Add(new AddElementOp(new NftElement(home.Name, address, owner.Tag)));
            }
        }

        InstallInterface(state, transaction, owner, target, mark, markChains, bridgeExists);
        return transaction;
    }

    /// <summary>
    /// Queues whatever makes both tables exactly what this build wants for the mark chains there plus
    /// <paramref name="mark"/>'s, and says so on the transaction (<see cref="NftTransaction.Verified"/>) when nothing
    /// had to be queued. A claim that covers the mark (<see cref="StructureClaim"/>) stands for that read.
    /// </summary>
    private static (List<string> MarkChains, bool BridgeExists, StructureRepair.Result Repair) MakeStructureWhole(
        INftState state, NftTransaction transaction, AttachmentOwner owner, MarkSpec mark, bool needsBridge)
    {
        if (state.Claim is { } claim && claim.Covers(mark.ChainName, needsBridge))
        {
            transaction.Verified = new VerifiedStructure(claim.SetNames, claim.Bridge);
            return (FwmarkRuleset.MarkChains(claim.SetNames), claim.Bridge, StructureRepair.Result.None());
        }

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
        var bridgeExists = state.BridgeExists();
        var repair = StructureRepair.Plan(state, transaction, structure, WantedStructure.For(markChains));
        var bridgeDrifts = 0;
        if (bridgeExists || needsBridge)
        {
            // Same transaction, so the same generation check: both tables change together or not at all.
            bridgeDrifts = StructureRepair.Plan(state, transaction, state.BridgeStructure(), WantedStructure.ForBridge(markChains)).Drifts.Count;
        }

        if (repair.Drifts.Count == 0 && bridgeDrifts == 0)
        {
            transaction.Verified = new VerifiedStructure(setNames, bridgeExists);
        }

        return (markChains, bridgeExists, repair);
    }

    /// <summary>The address path spelled with a plain address list (null: scan).</summary>
    public static NftTransaction Remove(INftState state, AttachmentOwner owner, IReadOnlyList<IPAddress>? addresses) =>
        RemoveKeys(state, owner, addresses is null ? null : new AttachmentKeys(addresses, []));

    /// <summary>
    /// Deletes what <paramref name="owner"/> installed. With keys: one O(1) lookup per mark set of each
    /// key's kind. Without (DEL lost its prevResult): every set is scanned for the owner's tag.
    /// </summary>
    public static NftTransaction RemoveKeys(INftState state, AttachmentOwner owner, AttachmentKeys? keys)
    {
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        // A claim (StructureClaim) names the sets and whether the bridge table exists; DEL itself never verifies.
        var claim = state.Claim;
        transaction.Verified = claim is null ? null : new VerifiedStructure(claim.SetNames, claim.Bridge);
        var markChains = FwmarkRuleset.MarkChains(claim?.SetNames ?? state.SetNames());
        var bridgeExists = claim?.Bridge ?? state.BridgeExists();
        var found = keys is null
            ? markChains.SelectMany(FwmarkRuleset.SetsOf)
                .SelectMany(set => state.Elements(set.Name).Select(e => (set, (NftElementInfo?)e)))
            : keys.Addresses.Distinct().SelectMany(address => markChains
                .Select(chain => FwmarkRuleset.SetFor(address, chain))
                .Select(set => (set, state.Element(set.Name, address))));
        var ownerKey = owner.Key;
        foreach (var (set, element) in found)
        {
            if (element is not null && IsTaggedBy(element.Comment, ownerKey))
            {
                transaction.Add(new DeleteElementOp(new NftElement(set.Name, element.Key)));
            }
        }

        foreach (var (table, set) in NftTables.NameSetsOf(markChains, bridgeExists))
        {
            var elements = keys is null
                ? state.NameElements(table, set.Name)
                : keys.Interfaces.Where(IsInterfaceName).Distinct().Select(name => state.NameElement(table, set.Name, name)).OfType<NftNameElementInfo>();
            foreach (var element in elements.Where(e => IsTaggedBy(e.Comment, ownerKey)))
            {
                transaction.Add(NftTables.DeleteName(table, set, element.Name));
            }
        }

        return transaction;
    }

    /// <summary>Deletes every element tagged with <paramref name="network"/> whose owner is not in <paramref name="valid"/>.</summary>
    public static NftTransaction Collect(INftState state, string network, IReadOnlyCollection<AttachmentOwner> valid)
    {
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var validKeys = valid.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        bool Stale(string? comment) =>
            comment is not null
            && AttachmentOwner.TagBelongsTo(comment, network)
            && AttachmentOwner.TryParseTag(comment, out _, out var key)
            && !validKeys.Contains(key);

        var markChains = FwmarkRuleset.MarkChains(state.SetNames());
        foreach (var set in markChains.SelectMany(FwmarkRuleset.SetsOf))
        {
            foreach (var element in state.Elements(set.Name).Where(e => Stale(e.Comment)))
            {
                transaction.Add(new DeleteElementOp(new NftElement(set.Name, element.Key)));
            }
        }

        foreach (var (table, set) in NftTables.NameSetsOf(markChains, state.BridgeExists()))
        {
            foreach (var element in state.NameElements(table, set.Name).Where(e => Stale(e.Comment)))
            {
                transaction.Add(NftTables.DeleteName(table, set, element.Name));
            }
        }

        return transaction;
    }

    /// <summary>True when the element's comment is <paramref name="owner"/>'s tag.</summary>
    public static bool IsOwnedBy(NftElementInfo element, AttachmentOwner owner) => IsTaggedBy(element.Comment, owner);

    /// <summary>True when <paramref name="comment"/> is <paramref name="owner"/>'s tag.</summary>
    public static bool IsTaggedBy(string? comment, AttachmentOwner owner) => IsTaggedBy(comment, owner.Key);

    /// <summary>As above with the owner's <see cref="AttachmentOwner.Key"/> computed once, for loops over many elements.</summary>
    public static bool IsTaggedBy(string? comment, string ownerKey) => comment is not null && AttachmentOwner.TagHasKey(comment, ownerKey);

    /// <summary>"network/container/ifname" for messages.</summary>
    public static string Describe(AttachmentOwner owner) => $"{owner.Network}/{owner.ContainerId}/{owner.IfName}";

    private static bool IsOfNetwork(string? comment, string network) => comment is not null && AttachmentOwner.TagBelongsTo(comment, network);

    /// <summary>Names prevResult lists that can be interface names at all (anything else was never a key).</summary>
    private static bool IsInterfaceName(string name) => name.Length is > 0 and < NftNameElement.KeyLength && name.All(char.IsAscii);

    /// <summary>
    /// Puts the attachment's host interface into its mark's set of its keying (bridge ports in the bridge
    /// table, routed interfaces in the inet table) and takes it out of every other ifname set: a name the
    /// kernel handed to a new veth (interface-name reuse), a changed mark or a changed keying — the newest
    /// attachment of a name wins, as with addresses.
    /// </summary>
    private static void InstallInterface(INftState state, NftTransaction transaction, AttachmentOwner owner, MarkTarget target, MarkSpec mark, List<string> markChains, bool bridgeExists)
    {
        if (!target.IsInterface)
        {
            return;
        }

        var name = target.Path.HostInterface!;
        var (homeTable, home) = target.Path.Keying == MarkKeying.BridgePort
            ? (InterfaceRuleset.BridgeTable, InterfaceRuleset.PortSet(mark.ChainName))
            : (FwmarkRuleset.Table, InterfaceRuleset.InterfaceSet(mark.ChainName));
        var keep = false;
        foreach (var (table, set) in NftTables.NameSetsOf(markChains, bridgeExists))
        {
            if (state.NameElement(table, set.Name, name) is not { } existing)
            {
                continue;
            }

            if (table == homeTable && set == home && IsTaggedBy(existing.Comment, owner))
            {
                keep = true;
            }
            else
            {
                transaction.Add(NftTables.DeleteName(table, set, name));
            }
        }

        if (!keep)
        {
            var add = new AddNameElementOp(new NftNameElement(home.Name, name, owner.Tag));
            transaction.Add(homeTable == InterfaceRuleset.BridgeTable ? NftTables.OnBridge(add) : add);
        }
    }
}
