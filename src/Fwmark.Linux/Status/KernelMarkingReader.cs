using Fwmark.Core;
using Fwmark.Core.Paths;
using Fwmark.Core.Status;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;
using Fwmark.Linux.Routing;
using Fwmark.Linux.Rtnetlink;
using Fwmark.Linux.Session;

namespace Fwmark.Linux.Status;

/// <summary>
/// <see cref="IMarkingReader"/> over nf_tables dumps of the plugin's two tables (sets with their expressions, then
/// every element of each mark set with its counter) and rtnetlink link lookups. `inet fwmark` holds the address
/// sets and the routed host veths (`ifaces-`), `bridge fwmark` the bridge ports (`ports-`): every key an
/// attachment can have. No lock: each dump is consistent in itself (NLM_F_DUMP_INTR restarts it), and status
/// reports what it saw. The guard tables are not read: the plugin's tables are where attachments live, and the
/// guard's counters would count the same packets a second time.
/// </summary>
/// <param name="netnsPath">Network namespace to read (tests); null = the current one.</param>
public sealed class KernelMarkingReader(string? netnsPath = null) : IMarkingReader
{
    public MarkingSnapshot Read() =>
        new KernelSession(NetlinkConstants.NETLINK_NETFILTER, netnsPath).Unlocked("read table inet fwmark", socket =>
        {
            var client = new NftClient(socket, FwmarkRuleset.Table);
            if (client.GetTableFlags() is null)
            {
                return MarkingSnapshot.Empty;
            }

            var sets = client.DumpSets().ToDictionary(s => s.Name, StringComparer.Ordinal);
            var bridge = new NftClient(socket, InterfaceRuleset.BridgeTable);
            var ports = bridge.GetTableFlags() is null
                ? new Dictionary<string, NftSetInfo>(StringComparer.Ordinal)
                : bridge.DumpSets().ToDictionary(s => s.Name, StringComparer.Ordinal);
            var inetNames = new NftNameSetClient(socket, FwmarkRuleset.Table);
            var bridgeNames = new NftNameSetClient(socket, InterfaceRuleset.BridgeTable);
            var marks = new List<MarkSpec>();
            var elements = new List<MarkedElement>();
            var counters = true;
            foreach (var chain in FwmarkRuleset.MarkChains(sets.Keys))
            {
                var mark = FwmarkRuleset.ParseMarkChain(chain)!;
                marks.Add(mark);
                foreach (var set in FwmarkRuleset.SetsOf(chain).Where(s => sets.ContainsKey(s.Name)))
                {
                    counters &= sets[set.Name].HasCounter;
                    var kind = set.Key == NftKeyType.IPv6Address ? MarkedKeyKind.IPv6 : MarkedKeyKind.IPv4;
                    elements.AddRange(client.DumpElements(set.Name).Select(e => new MarkedElement(
                        mark, set.Name, kind, e.Key.ToString(), e.Comment, Counter(e.Counter))));
                }

                // Interface keys: the name of the pod's host veth, in the set its path uses.
                foreach (var (names, have, set, keying) in new[]
                {
                    (inetNames, sets, InterfaceRuleset.InterfaceSet(chain), MarkKeying.InputInterface),
                    (bridgeNames, ports, InterfaceRuleset.PortSet(chain), MarkKeying.BridgePort),
                })
                {
                    if (!have.TryGetValue(set.Name, out var info))
                    {
                        continue;
                    }

                    counters &= info.HasCounter;
                    elements.AddRange(names.DumpElements(set.Name).Select(e => new MarkedElement(
                        mark, set.Name, MarkedKeyKind.Interface, e.Name, e.Comment, Counter(e.Counter))
                    { Keying = keying }));
                }
            }

            return new MarkingSnapshot(true, marks, elements, counters);
        });

    public bool? LinkUp(string name) =>
        new KernelSession(NetlinkConstants.NETLINK_ROUTE, netnsPath).Unlocked($"look up link {name}", socket =>
            new RtnlClient(socket, RtnetlinkRouting.Protocol).FindLink(name)?.IsUp);

    private static ElementCounter? Counter(NftCounter? counter) => counter is { } c ? new ElementCounter(c.Packets, c.Bytes) : null;
}
