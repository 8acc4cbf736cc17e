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
    public static List<string> Verify(NftTables tables, AttachmentOwner owner, AttachmentPath path, MarkSpec mark)
    {
        var name = path.HostInterface ?? throw new ArgumentException("an interface path names its interface", nameof(path));
        if (!tables.Inet.TableExists())
        {
            return [$"table {FwmarkRuleset.Table} is missing"];
        }

        var problems = new List<string>();
        var sets = tables.Inet.DumpSetNames();
        var markChains = FwmarkRuleset.MarkChains(sets, mark.ChainName);
        var marks = markChains.Select(FwmarkRuleset.ParseMarkChain).OfType<MarkSpec>().ToList();
        var chains = tables.Inet.DumpChainNames();
        var rules = tables.Inet.DumpRules();
        NftVerifier.CheckChain(problems, chains, rules, FwmarkRuleset.Prerouting.Name, FwmarkRuleset.PreroutingRules(markChains));
        NftVerifier.CheckChain(problems, chains, rules, InterfaceRuleset.Replies.Name, InterfaceRuleset.RepliesRules(marks));
        NftVerifier.CheckChain(problems, chains, rules, mark.ChainName, FwmarkRuleset.MarkRules(mark));
        if (mark.Connmark)
        {
            NftVerifier.CheckChain(problems, chains, rules, ConnmarkRules.RestoreChain(mark).Name, ConnmarkRules.RestoreRules(mark));
        }

        var bridgeExists = tables.Bridge.TableExists();
        var home = path.Keying == MarkKeying.BridgePort ? InterfaceRuleset.PortSet(mark.ChainName) : InterfaceRuleset.InterfaceSet(mark.ChainName);
        var homeTable = path.Keying == MarkKeying.BridgePort ? InterfaceRuleset.BridgeTable : FwmarkRuleset.Table;
        if (path.Keying == MarkKeying.BridgePort)
        {
            if (!bridgeExists)
            {
                problems.Add($"table {InterfaceRuleset.BridgeTable} is missing, so {path.Describe()} is not marked");
                return problems;
            }

            var bridgeChains = tables.Bridge.DumpChainNames();
            var bridgeRules = tables.Bridge.DumpRules();
            NftVerifier.CheckChain(problems, bridgeChains, bridgeRules, InterfaceRuleset.BridgePrerouting.Name, InterfaceRuleset.BridgePreroutingRules(markChains), InterfaceRuleset.BridgeTable);
            NftVerifier.CheckChain(problems, bridgeChains, bridgeRules, mark.ChainName, InterfaceRuleset.BridgeMarkRules(mark), InterfaceRuleset.BridgeTable);
        }

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
}
