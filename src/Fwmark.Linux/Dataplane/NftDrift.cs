using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>What kind of difference, which decides the repair.</summary>
internal enum NftDriftKind
{
    /// <summary>Table flags differ (dormant): re-sent with flags 0.</summary>
    TableFlags,

    /// <summary>A chain fwmark makes does not exist: created and filled.</summary>
    MissingChain,

    /// <summary>A chain exists with another type, hook, priority, policy or flags: deleted and made again.</summary>
    ChainShape,

    /// <summary>A chain's rules differ (missing, changed, foreign, duplicated, reordered): flushed and refilled.</summary>
    ChainRules,

    /// <summary>A set fwmark makes does not exist: created.</summary>
    MissingSet,

    /// <summary>A set exists with another key type, length, flags or as a map: made again, its elements kept.</summary>
    SetShape,

    /// <summary>A chain in our table that fwmark does not make: flushed and deleted.</summary>
    ForeignChain,
}

/// <summary>One difference between the kernel's table and what fwmark makes, worded for an operator.</summary>
internal sealed record NftDrift(NftDriftKind Kind, string Object, string Problem);

/// <summary>
/// Exact drift detection: compares the full structure of `inet fwmark` as the kernel reports it
/// (<see cref="NftTableSnapshot"/>: table flags, each chain's type/hook/priority/policy/flags, each
/// set's key type/length/flags, every rule's decoded expressions with their operands) with
/// <see cref="WantedStructure"/>. CHECK words the result; ADD and reconcile repair from it
/// (<see cref="StructureRepair"/>). Pure.
/// </summary>
internal static class NftDriftDetector
{
    /// <param name="have">The kernel's table (must exist).</param>
    /// <param name="want">The chains and sets to compare.</param>
    /// <param name="known">Every chain name fwmark makes in this table; any other chain is foreign.</param>
    public static List<NftDrift> Compare(NftTableSnapshot have, WantedStructure want, IReadOnlySet<string> known)
    {
        var table = want.Table;
        var drifts = new List<NftDrift>();
        if (have.TableFlags is { } flags && flags != 0)
        {
            drifts.Add(new(NftDriftKind.TableFlags, $"table {table}", (flags & TableAttr.FlagDormant) != 0
                ? $"table {table} is dormant (flags 0x{flags:x}), so none of its chains sees a packet and no pod is marked"
                : $"table {table} has flags 0x{flags:x} where fwmark makes 0"));
        }

        var chains = have.Chains.ToDictionary(c => c.Name, StringComparer.Ordinal);
        foreach (var wanted in want.Chains)
        {
            var name = wanted.Chain.Name;
            if (!chains.TryGetValue(name, out var chain))
            {
                drifts.Add(new(NftDriftKind.MissingChain, name, $"chain {name} is missing from table {table}"));
                continue;
            }

            if (ShapeProblem(chain, wanted.Chain) is { } shape)
            {
                drifts.Add(new(NftDriftKind.ChainShape, name, shape));
            }

            foreach (var problem in RuleProblems(name, have.Rules.Where(r => r.Chain == name).ToList(), wanted.Rules))
            {
                drifts.Add(new(NftDriftKind.ChainRules, name, problem));
            }
        }

        var sets = have.Sets.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var wanted in want.Sets)
        {
            if (!sets.TryGetValue(wanted.Name, out var set))
            {
                drifts.Add(new(NftDriftKind.MissingSet, wanted.Name, $"set {wanted.Name} is missing from table {table}"));
            }
            else if (set.Flags != 0 || set.KeyType != wanted.Key.TypeId || set.KeyLength != wanted.Key.Length || set.HasData)
            {
                var map = set.HasData ? " and maps its keys to data" : "";
                drifts.Add(new(NftDriftKind.SetShape, wanted.Name,
                    $"set {wanted.Name} has key type {set.KeyType} ({set.KeyLength} bytes), flags 0x{set.Flags:x}{map} where fwmark makes a plain set of {wanted.Key.Name} (type {wanted.Key.TypeId}, {wanted.Key.Length} bytes), flags 0"));
            }
            else if (set.HasCounter != wanted.Counter || (!wanted.Counter && set.Expressions.Count > 0))
            {
                // An older fwmark made its sets without per-element counters; the kernel cannot add a
                // template to an existing set, so it is re-made (with its elements) like any other shape.
                var present = set.Expressions.Count == 0 ? "no element expressions" : $"element expressions {string.Join(", ", set.Expressions)}";
                drifts.Add(new(NftDriftKind.SetShape, wanted.Name,
                    $"set {wanted.Name} has {present} where fwmark makes {(wanted.Counter ? "a counter per element" : "none")}"));
            }
        }

        foreach (var chain in have.Chains.Where(c => !known.Contains(c.Name)))
        {
            var hook = chain.Hook is { } h ? $" ({Describe(h)}: it sees every packet of its hook)" : "";
            drifts.Add(new(NftDriftKind.ForeignChain, chain.Name, $"chain {chain.Name} in table {table} was not made by fwmark{hook}"));
        }

        return drifts;
    }

    /// <summary>Every chain name <paramref name="structure"/> makes.</summary>
    public static HashSet<string> Names(WantedStructure structure) =>
        structure.Chains.Select(c => c.Chain.Name).ToHashSet(StringComparer.Ordinal);

    private static string? ShapeProblem(NftChainInfo have, NftChain want)
    {
        var extraFlags = have.Flags & ~ChainAttr.FlagBase;
        if (have.Hook != want.Hook)
        {
            var kind = have.Hook is { } h ? $"a base chain \"{Describe(h)}\"" : "a regular chain (no hook: no packet enters it)";
            var makes = want.Hook is { } w ? $"a base chain \"{Describe(w)}\"" : "a regular chain";
            return $"chain {have.Name} is {kind} where fwmark makes {makes}";
        }

        return extraFlags != 0 ? $"chain {have.Name} has flags 0x{have.Flags:x} where fwmark sets none" : null;
    }

    private static string Describe(NftHook hook) =>
        $"type {hook.Type} hook {hook.HookName} priority {hook.Priority}; policy {hook.PolicyName}";

    /// <summary>The rules of one chain against the wanted list; the messages CHECK shows.</summary>
    private static List<string> RuleProblems(string chain, List<NftRuleInfo> present, IReadOnlyList<NftRule> wanted)
    {
        var problems = new List<string>();
        var presentPrints = present.Select(r => r.Fingerprint).ToList();
        var expected = wanted.Select(r => r.Fingerprint).ToList();
        var missing = wanted.Where(rule => !presentPrints.Contains(rule.Fingerprint)).ToList();
        var unexpected = present.Where(r => !expected.Contains(r.Fingerprint)).ToList();
        foreach (var rule in missing)
        {
            // Same comment, other expressions: someone rewrote our rule. Say what changed.
            var changed = unexpected.FirstOrDefault(r => r.Comment == rule.Comment);
            if (changed is not null)
            {
                unexpected.Remove(changed);
                problems.Add($"rule \"{rule.Text}\" in chain {chain} was changed: {Difference(changed.Expressions, rule.Shapes)}");
            }
            else
            {
                problems.Add($"rule \"{rule.Text}\" is missing from chain {chain}");
            }
        }

        if (unexpected.Count > 0)
        {
            problems.Add($"chain {chain} holds {unexpected.Count} rule(s) fwmark did not create");
        }
        else if (missing.Count == 0 && !presentPrints.SequenceEqual(expected))
        {
            // A copy of a lookup placed before "ct direction reply return" would mark inbound replies.
            problems.Add($"rules of chain {chain} are duplicated or out of order");
        }

        return problems;
    }

    private static string Difference(IReadOnlyList<NftExpressionShape> have, IReadOnlyList<NftExpressionShape> want)
    {
        for (var i = 0; i < Math.Min(have.Count, want.Count); i++)
        {
            if (have[i] != want[i])
            {
                return $"expression {i + 1} is {have[i]} where fwmark makes {want[i]}";
            }
        }

        return $"it has {have.Count} expressions ({string.Join(' ', have.Select(e => e.Name))}) where fwmark makes {want.Count}";
    }
}
