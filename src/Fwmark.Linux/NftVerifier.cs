using System.Net;
using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux;

/// <summary>
/// CHECK: compares what the kernel holds for one attachment with what Install would have made
/// and words every difference for an operator. Read-only.
/// </summary>
internal static class NftVerifier
{
    public static List<string> Verify(NftClient client, AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark)
    {
        var table = FwmarkRuleset.Table;
        if (!client.TableExists())
        {
            return [$"table {table} is missing"];
        }

        var problems = new List<string>();
        var chains = client.DumpChainNames();
        var sets = client.DumpSetNames();
        var rules = client.DumpRules();
        CheckChain(problems, chains, rules, FwmarkRuleset.Prerouting.Name, FwmarkRuleset.PreroutingRules);
        CheckChain(problems, chains, rules, mark.ChainName, FwmarkRuleset.MarkRules(mark));
        if (mark.Connmark)
        {
            CheckChain(problems, chains, rules, ConnmarkRules.RestoreChain(mark).Name, ConnmarkRules.RestoreRules(mark));
        }
        foreach (var address in addresses.Distinct())
        {
            var map = FwmarkRuleset.MapFor(address);
            if (!sets.Contains(map.Name))
            {
                problems.Add($"map {map.Name} is missing from table {table}, so {address} is not marked");
                continue;
            }

            var element = client.GetElement(map.Name, address);
            if (element is null)
            {
                problems.Add($"element {address} is missing from map {map.Name}");
            }
            else if (element.Comment is null
                || !AttachmentOwner.TryParseTag(element.Comment, out _, out var key)
                || key != owner.Key)
            {
                problems.Add($"element {address} in map {map.Name} is owned by another attachment ({element.Comment ?? "no owner comment"})");
            }
            else if (element.GotoChain != mark.ChainName)
            {
                problems.Add($"element {address} in map {map.Name} points to {element.GotoChain ?? "a non-goto verdict"} instead of chain {mark.ChainName}");
            }
        }

        return problems;
    }

    private static void CheckChain(List<string> problems, List<string> chains, List<NftRuleInfo> rules, string chain, IReadOnlyList<NftRule> wanted)
    {
        if (!chains.Contains(chain))
        {
            problems.Add($"chain {chain} is missing from table {FwmarkRuleset.Table}");
            return;
        }

        var present = rules.Where(r => r.Chain == chain).Select(r => r.Fingerprint).ToList();
        foreach (var rule in wanted)
        {
            if (!present.Contains(rule.Fingerprint))
            {
                problems.Add($"rule \"{rule.Text}\" is missing from chain {chain}");
            }
        }

        var expected = wanted.Select(r => r.Fingerprint).ToList();
        var unexpected = present.Count(f => !expected.Contains(f));
        if (unexpected > 0)
        {
            problems.Add($"chain {chain} holds {unexpected} rule(s) fwmark did not create");
        }
        else if (present.Count == expected.Count && !present.SequenceEqual(expected))
        {
            problems.Add($"rules of chain {chain} are out of order");
        }
    }
}
