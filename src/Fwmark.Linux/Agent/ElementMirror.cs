using System.Net;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The agent's picture of the plugin's sets, in both of its tables: the address sets of `inet fwmark`
/// (set → address → owner comment) and the ifname sets (set → interface name → owner comment) of
/// `inet fwmark` (routed input interfaces, ifaces-*) and `bridge fwmark` (bridge ports, ports-*). It starts
/// from a dump of the plugin's tables and then replays the element notifications in the order the kernel
/// committed them. Wholesale losses (a table or a set deleted: `nft flush ruleset`, `nft delete table`) are
/// deliberately NOT replayed: they are what the agent restores from here.
/// </summary>
internal sealed class ElementMirror
{
    private readonly Dictionary<string, Dictionary<IPAddress, string?>> _sets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string?>> _inetNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string?>> _bridgeNames = new(StringComparer.Ordinal);

    /// <summary>Set names of `inet fwmark` seen (address and ifname sets), known-format ones only (another version's are not ours to guard).</summary>
    public IEnumerable<string> SetNames => _sets.Keys.Concat(_inetNames.Keys);

    /// <summary>The mark chains the mirrored inet sets stand for, in the plugin's canonical order.</summary>
    public List<string> MarkChains => FwmarkRuleset.MarkChains(SetNames);

    /// <summary>Whether the plugin has made its bridge table (a port set was seen): then the guard and the restore cover it too.</summary>
    public bool HasBridge => _bridgeNames.Count > 0;

    public IReadOnlyDictionary<IPAddress, string?> Elements(string set) =>
        _sets.TryGetValue(set, out var elements) ? elements : new Dictionary<IPAddress, string?>();

    /// <summary>The interface names in ifname set <paramref name="set"/> of the plugin's <paramref name="table"/>.</summary>
    public IReadOnlyDictionary<string, string?> Names(NftTable table, string set) =>
        NamesOf(table).TryGetValue(set, out var names) ? names : new Dictionary<string, string?>();

    /// <summary>
    /// The keys of <paramref name="set"/> of the plugin's <paramref name="table"/> as text (an address or an interface
    /// name, by the set's key type) with their owner comments: one view for code that copies sets whatever their key.
    /// </summary>
    public Dictionary<string, string?> Keys(NftTable table, NftAddressSet set) =>
        set.Key == NftKeyType.IfName
            ? new Dictionary<string, string?>(Names(table, set.Name), StringComparer.Ordinal)
            : Elements(set.Name).ToDictionary(e => e.Key.ToString(), e => e.Value, StringComparer.Ordinal);

    public int Count => _sets.Values.Sum(s => s.Count) + _inetNames.Values.Sum(s => s.Count) + _bridgeNames.Values.Sum(s => s.Count);

    /// <summary>Adds an address or ifname set of `inet fwmark` (empty) when it is one of ours; returns whether it is.</summary>
    public bool AddSet(string set) => AddSet(FwmarkRuleset.Table, set);

    /// <summary>Adds a set of the plugin's <paramref name="table"/> (empty) when it is one of ours; returns whether it is.</summary>
    public bool AddSet(NftTable table, string set)
    {
        if (table == InterfaceRuleset.BridgeTable)
        {
            if (!set.StartsWith(InterfaceRuleset.PortPrefix, StringComparison.Ordinal) || FwmarkRuleset.ParseMarkChain(set[InterfaceRuleset.PortPrefix.Length..]) is null)
            {
                return false;
            }

            _bridgeNames.TryAdd(set, []);
            return true;
        }

        if (FwmarkRuleset.MarkChains([set]).Count == 0)
        {
            return false;
        }

        if (NftEvent.IsNameSet(set))
        {
            _inetNames.TryAdd(set, []);
        }
        else
        {
            _sets.TryAdd(set, []);
        }

        return true;
    }

    public void Put(string set, IPAddress key, string? comment)
    {
        if (AddSet(set) && _sets.TryGetValue(set, out var elements))
        {
            elements[key] = comment;
        }
    }

    public void Remove(string set, IPAddress key)
    {
        if (_sets.TryGetValue(set, out var elements))
        {
            elements.Remove(key);
        }
    }

    /// <summary>Puts <paramref name="key"/> (an address or an interface name as text, by the set's key type): the writer beside <see cref="Keys"/>.</summary>
    public void PutKey(NftTable table, NftAddressSet set, string key, string? comment)
    {
        if (set.Key == NftKeyType.IfName)
        {
            PutName(table, set.Name, key, comment);
        }
        else
        {
            Put(set.Name, IPAddress.Parse(key), comment);
        }
    }

    public void PutName(NftTable table, string set, string name, string? comment)
    {
        if (AddSet(table, set) && NamesOf(table).TryGetValue(set, out var names))
        {
            names[name] = comment;
        }
    }

    public void RemoveName(NftTable table, string set, string name)
    {
        if (NamesOf(table).TryGetValue(set, out var names))
        {
            names.Remove(name);
        }
    }

    /// <summary>
    /// Applies one notification about one of the plugin's tables. Returns true when it changed what the
    /// guard must hold (elements or sets).
    /// </summary>
    public bool Apply(NftEvent change)
    {
        var table = change.IsFor(InterfaceRuleset.BridgeTable) ? InterfaceRuleset.BridgeTable : FwmarkRuleset.Table;
        switch (change.Kind)
        {
            case NftMessageType.NewSet when change.Set is not null:
                return !Knows(table, change.Set) && AddSet(table, change.Set);
            case NftMessageType.NewSetElem when change.Set is not null:
                foreach (var element in change.Elements)
                {
                    Put(change.Set, element.Key, element.Comment);
                }

                foreach (var name in change.Names)
                {
                    PutName(table, change.Set, name.Name, name.Comment);
                }

                return change.Elements.Count + change.Names.Count > 0;
            case NftMessageType.DelSetElem when change.Set is not null:
                foreach (var element in change.Elements)
                {
                    Remove(change.Set, element.Key);
                }

                foreach (var name in change.Names)
                {
                    RemoveName(table, change.Set, name.Name);
                }

                return change.Elements.Count + change.Names.Count > 0;
            default:
                return false;
        }
    }

    /// <summary>
    /// Replaces the picture of each of the plugin's tables that exists now with what it holds. A table that
    /// does not exist keeps its part: after lost notifications, a table deleted meanwhile is still to be restored.
    /// </summary>
    public void Load(NetlinkConversation socket)
    {
        var inet = new NftClient(socket, FwmarkRuleset.Table);
        if (inet.TableExists())
        {
            _sets.Clear();
            _inetNames.Clear();
            var names = new NftNameSetClient(socket, FwmarkRuleset.Table);
            foreach (var set in inet.DumpSetNames().Where(AddSet))
            {
                if (NftEvent.IsNameSet(set))
                {
                    foreach (var element in names.DumpElements(set))
                    {
                        _inetNames[set][element.Name] = element.Comment;
                    }
                }
                else
                {
                    foreach (var element in inet.DumpElements(set))
                    {
                        _sets[set][element.Key] = element.Comment;
                    }
                }
            }
        }

        var bridge = new NftClient(socket, InterfaceRuleset.BridgeTable);
        if (bridge.TableExists())
        {
            _bridgeNames.Clear();
            var ports = new NftNameSetClient(socket, InterfaceRuleset.BridgeTable);
            foreach (var set in bridge.DumpSetNames().Where(s => AddSet(InterfaceRuleset.BridgeTable, s)))
            {
                foreach (var element in ports.DumpElements(set))
                {
                    _bridgeNames[set][element.Name] = element.Comment;
                }
            }
        }
    }

    private bool Knows(NftTable table, string set) =>
        table == InterfaceRuleset.BridgeTable ? _bridgeNames.ContainsKey(set) : _sets.ContainsKey(set) || _inetNames.ContainsKey(set);

    private Dictionary<string, Dictionary<string, string?>> NamesOf(NftTable table) =>
        table == InterfaceRuleset.BridgeTable ? _bridgeNames : _inetNames;
}
