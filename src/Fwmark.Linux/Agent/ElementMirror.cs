using System.Net;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The agent's picture of the plugin's sets: set name → address → owner comment. It starts from a
/// dump of the plugin's table and then replays the element notifications in the order the kernel
/// committed them. Wholesale losses (the table or a set deleted: `nft flush ruleset`, `nft delete
/// table`) are deliberately NOT replayed: they are what the agent restores from here.
/// </summary>
internal sealed class ElementMirror
{
    private readonly Dictionary<string, Dictionary<IPAddress, string?>> _sets = new(StringComparer.Ordinal);

    /// <summary>Set names seen, known-format ones only (another version's sets are not ours to guard).</summary>
    public IEnumerable<string> SetNames => _sets.Keys;

    /// <summary>The mark chains the mirrored sets stand for, in the plugin's canonical order.</summary>
    public List<string> MarkChains => FwmarkRuleset.MarkChains(_sets.Keys);

    public IReadOnlyDictionary<IPAddress, string?> Elements(string set) =>
        _sets.TryGetValue(set, out var elements) ? elements : new Dictionary<IPAddress, string?>();

    public int Count => _sets.Values.Sum(s => s.Count);

    /// <summary>Adds a set (empty) when it is one of ours; returns whether it is.</summary>
    public bool AddSet(string set)
    {
        if (FwmarkRuleset.MarkChains([set]).Count == 0)
        {
            return false;
        }

        _sets.TryAdd(set, []);
        return true;
    }

    public void Put(string set, IPAddress key, string? comment)
    {
        if (AddSet(set))
        {
            _sets[set][key] = comment;
        }
    }

    public void Remove(string set, IPAddress key)
    {
        if (_sets.TryGetValue(set, out var elements))
        {
            elements.Remove(key);
        }
    }

    /// <summary>
    /// Applies one notification about the plugin's table. Returns true when it changed what the
    /// guard must hold (elements or sets).
    /// </summary>
    public bool Apply(NftEvent change)
    {
        switch (change.Kind)
        {
            case NftMessageType.NewSet when change.Set is not null:
                return !_sets.ContainsKey(change.Set) && AddSet(change.Set);
            case NftMessageType.NewSetElem when change.Set is not null:
                foreach (var element in change.Elements)
                {
                    Put(change.Set, element.Key, element.Comment);
                }

                return change.Elements.Count > 0;
            case NftMessageType.DelSetElem when change.Set is not null:
                foreach (var element in change.Elements)
                {
                    Remove(change.Set, element.Key);
                }

                return change.Elements.Count > 0;
            default:
                return false;
        }
    }

    /// <summary>Replaces the whole picture with what <paramref name="client"/>'s table holds now.</summary>
    public void Load(NftClient client)
    {
        _sets.Clear();
        foreach (var set in client.DumpSetNames())
        {
            if (!AddSet(set))
            {
                continue;
            }

            foreach (var element in client.DumpElements(set))
            {
                _sets[set][element.Key] = element.Comment;
            }
        }
    }
}
