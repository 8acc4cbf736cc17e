using Fwmark.Core;
using Fwmark.Core.Paths;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// CHECK for an interface-keyed attachment: the structure of both tables as Install makes it, the host
/// interface in its mark's set of its keying and owned by the attachment, and in no other ifname set.
/// Read-only; every difference is worded for an operator.
/// </summary>
internal static class InterfaceVerifier
{
    /// <param name="claim">A claim for the generation now (<see cref="StructureClaim"/>): when it covers the mark (and the
    /// bridge table, for a bridge port), both tables are known exact and only the elements are looked up.</param>
    public static List<string> Verify(NftTables tables, AttachmentOwner owner, AttachmentPath path, MarkSpec mark, StructureClaim? claim = null)
    {
        var name = path.HostInterface ?? throw new ArgumentException("an interface path names its interface", nameof(path));
        if (claim is not null && claim.Covers(mark.ChainName, needsBridge: path.Keying == MarkKeying.BridgePort))
        {
            return ElementProblems(tables, owner, path, name, mark, FwmarkRuleset.MarkChains(claim.SetNames), claim.Bridge, []);
        }

        if (!tables.Inet.TableExists())
        {
            return [$"table {FwmarkRuleset.Table} is missing"];
        }

        // Exact structure, as for the address path: shapes, every rule's expressions, set types.
        var structure = tables.Inet.ReadStructure();
        var markChains = FwmarkRuleset.MarkChains(structure.SetNames, mark.ChainName);
        var problems = Drift(structure, WantedStructure.ForCheck(markChains, mark), WantedStructure.For(markChains), ignoreMissingAddressSets: true);
        var bridgeExists = tables.Bridge.TableExists();
        if (path.Keying == MarkKeying.BridgePort)
        {
            if (!bridgeExists)
            {
                problems.Add($"table {InterfaceRuleset.BridgeTable} is missing, so {path.Describe()} is not marked");
                return problems;
            }

            problems.AddRange(Drift(tables.Bridge.ReadStructure(), WantedStructure.ForBridgeCheck(markChains, mark), WantedStructure.ForBridge(markChains), ignoreMissingAddressSets: false));
        }

        return ElementProblems(tables, owner, path, name, mark, markChains, bridgeExists, problems);
    }

    /// <summary>The host interface in its home set, owned by the attachment, and in no other ifname set; added to <paramref name="problems"/>.</summary>
    private static List<string> ElementProblems(NftTables tables, AttachmentOwner owner, AttachmentPath path, string name, MarkSpec mark, List<string> markChains, bool bridgeExists, List<string> problems)
    {
        var home = path.Keying == MarkKeying.BridgePort ? InterfaceRuleset.PortSet(mark.ChainName) : InterfaceRuleset.InterfaceSet(mark.ChainName);
        var homeTable = path.Keying == MarkKeying.BridgePort ? InterfaceRuleset.BridgeTable : FwmarkRuleset.Table;
        foreach (var (reader, set) in tables.NameSets(markChains, bridgeExists))
        {
            var element = reader.GetElement(set.Name, name);
            if (set == home && reader.Table == homeTable)
            {
                if (element is null)
                {
                    problems.Add($"element \"{name}\" ({path.Describe()}) is missing from set {set.Name} of table {homeTable}");
                }
                else if (!NftPlanner.IsTaggedBy(element.Comment, owner))
                {
                    problems.Add($"element \"{name}\" in set {set.Name} of table {homeTable} is owned by another attachment ({element.Comment ?? "no owner comment"})");
                }
            }
            else if (element is not null)
            {
                problems.Add($"element \"{name}\" is also in set {set.Name} of table {reader.Table}, which marks it differently from {path.Describe()} with chain {mark.ChainName}");
            }
        }

        return problems;
    }

    /// <summary>
    /// The drift of one table worded for CHECK. A missing address set is not this attachment's problem
    /// (its addresses are not keys on the interface path); a missing ifname set is.
    /// </summary>
    private static List<string> Drift(Fwmark.Linux.NfTables.NftTableSnapshot have, WantedStructure check, WantedStructure full, bool ignoreMissingAddressSets) =>
    [
        .. NftDriftDetector.Compare(have, check, NftDriftDetector.Names(full))
            .Where(d => !(ignoreMissingAddressSets && d.Kind == NftDriftKind.MissingSet && !d.Object.StartsWith(InterfaceRuleset.InterfacePrefix, StringComparison.Ordinal)))
            .Select(d => d.Problem),
    ];
}
