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
        var markChains = FwmarkRuleset.MarkChains(sets, mark.ChainName);
        CheckChain(problems, chains, rules, FwmarkRuleset.Prerouting.Name, FwmarkRuleset.PreroutingRules(markChains));
        CheckChain(problems, chains, rules, InterfaceRuleset.Replies.Name, InterfaceRuleset.RepliesRules(markChains.Select(FwmarkRuleset.ParseMarkChain).OfType<MarkSpec>()));
        CheckChain(problems, chains, rules, mark.ChainName, FwmarkRuleset.MarkRules(mark));
        if (mark.Connmark)
        {
            CheckChain(problems, chains, rules, ConnmarkRules.RestoreChain(mark).Name, ConnmarkRules.RestoreRules(mark));
        }

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

    internal static void CheckChain(List<string> problems, List<string> chains, List<NftRuleInfo> rules, string chain, IReadOnlyList<NftRule> wanted, NftTable? table = null)
    {
        if (!chains.Contains(chain))
        {
            problems.Add($"chain {chain} is missing from table {table ?? FwmarkRuleset.Table}");
            return;
        }

        var present = rules.Where(r => r.Chain == chain).Select(r => r.Fingerprint).ToList();
        var missing = wanted.Where(rule => !present.Contains(rule.Fingerprint)).ToList();
        foreach (var rule in missing)
        {
            problems.Add($"rule \"{rule.Text}\" is missing from chain {chain}");
        }

        var expected = wanted.Select(r => r.Fingerprint).ToList();
        var unexpected = present.Count(f => !expected.Contains(f));
        if (unexpected > 0)
        {
            problems.Add($"chain {chain} holds {unexpected} rule(s) fwmark did not create");
        }
        else if (missing.Count == 0 && !present.SequenceEqual(expected))
        {
            // A copy of a lookup placed before "ct direction reply return" would mark inbound replies.
            problems.Add($"rules of chain {chain} are duplicated or out of order");
        }
    }
}
