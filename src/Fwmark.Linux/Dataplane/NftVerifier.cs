using System.Net;
using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// CHECK: compares what the kernel holds for one attachment with what Install would have made
/// and words every difference for an operator. Read-only.
/// </summary>
internal static class NftVerifier
{
    /// <param name="claim">A claim for the generation now (<see cref="StructureClaim"/>): when it covers the mark, the
    /// whole structure is known exact, which is more than the comparison below would check, so it is skipped.</param>
    public static List<string> Verify(NftClient client, AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark, StructureClaim? claim = null)
    {
        var table = FwmarkRuleset.Table;
        var structure = claim is not null && claim.Covers(mark.ChainName, needsBridge: false) ? null : client.ReadStructure();
        if (structure is { TableExists: false })
        {
            return [$"table {table} is missing"];
        }

        List<string> sets = [.. structure?.SetNames ?? claim!.SetNames];
        var markChains = FwmarkRuleset.MarkChains(sets, mark.ChainName);
        // The whole shape of what this attachment's packets pass through; missing sets are worded per address below.
        var problems = structure is null
            ? []
            : NftDriftDetector.Compare(structure, WantedStructure.ForCheck(markChains, mark), NftDriftDetector.Names(WantedStructure.For(markChains)))
                .Where(d => d.Kind != NftDriftKind.MissingSet)
                .Select(d => d.Problem)
                .ToList();

        foreach (var address in addresses.Distinct())
        {
            var home = FwmarkRuleset.SetFor(address, mark.ChainName);
            if (!sets.Contains(home.Name))
            {
                problems.Add($"set {home.Name} is missing from table {table}, so {address} is not marked");
            }
            else if (client.GetElement(home.Name, address) is not { } element)
            {
                problems.Add($"element {address} is missing from set {home.Name}");
            }
            else if (!NftPlanner.IsOwnedBy(element, owner))
            {
                problems.Add($"element {address} in set {home.Name} is owned by another attachment ({element.Comment ?? "no owner comment"})");
            }

            // In another mark's set too, the packet takes whichever lookup comes first: that is a fault.
            foreach (var chain in markChains.Where(c => c != mark.ChainName))
            {
                var other = FwmarkRuleset.SetFor(address, chain);
                if (client.GetElement(other.Name, address) is not null)
                {
                    problems.Add($"element {address} is also in set {other.Name}, which sends it to chain {chain} instead of chain {mark.ChainName}");
                }
            }
        }

        return problems;
    }
}
