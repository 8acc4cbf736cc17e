using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// The interface-keyed part of the ruleset (docs/paths.md): the pod's host-side veth, not its source
/// address, says whose packet it is, so an address the pod adds itself, a forged source on a raw socket
/// or an unreported IPv6 address is marked all the same.
/// <code>
/// table bridge fwmark {                                  # created with the first bridge-port attachment
///     set ports-mark-VVVVVVVV-MMMMMMMM { type ifname; counter }    # host veths that are bridge ports, per mark chain
///     chain prerouting { type filter hook prerouting priority -200; policy accept;
///         iifname @ports-mark-VVVVVVVV-MMMMMMMM goto mark-VVVVVVVV-MMMMMMMM }
///     chain mark-VVVVVVVV-MMMMMMMM { meta mark set meta mark &amp; ~M | V counter }
/// }
/// table inet fwmark {                                    # next to the address sets of FwmarkRuleset
///     set ifaces-mark-VVVVVVVV-MMMMMMMM { type ifname; counter }   # routed host veths (the packet's input interface)
///     chain replies { type filter hook prerouting priority -151; policy accept;
///         ct direction reply meta mark &amp; M == V meta mark set meta mark &amp; ~M counter }
///     chain prerouting { ... iifname @ifaces-mark-VVVVVVVV-MMMMMMMM goto mark-VVVVVVVV-MMMMMMMM ... }
/// }
/// </code>
/// A bridged frame meets the bridge family's prerouting hook before the IP stack sees it (with the
/// bridge, not the port, as input interface), so the mark is set there and carried in the skb into the
/// inet hooks and the routing decision. The bridge family has no conntrack verdict, so it marks the
/// pod's replies to inbound connections too; the inet <c>replies</c> chain takes those bits off again —
/// after conntrack (−200), before the connmark restore and the mangle chains (−150) and before routing —
/// so those replies keep the main path. Priority −200 in the bridge family runs before br_netfilter (0).
/// Per packet: one hash lookup per mark chain in use in each family, whatever the number of pods.
/// </summary>
internal static class InterfaceRuleset
{
    public static readonly NftTable BridgeTable = new(NfNetlink.FamilyBridge, "fwmark");

    public const string PortPrefix = "ports-";

    public const string InterfacePrefix = "ifaces-";

    public const int BridgePriority = -200;

    /// <summary>One below mangle: after conntrack, before the connmark restore chains and the prerouting chain.</summary>
    public const int RepliesPriority = -151;

    public static readonly NftChain BridgePrerouting = new("prerouting", new NftHook("filter", InetHook.Prerouting, BridgePriority, Verdict.Accept));

    public static readonly NftChain Replies = new("replies", new NftHook("filter", InetHook.Prerouting, RepliesPriority, Verdict.Accept));

    /// <summary>The bridge ports of mark chain <paramref name="chain"/> (in <see cref="BridgeTable"/>).</summary>
    public static NftAddressSet PortSet(string chain) => new(PortPrefix + chain, NftKeyType.IfName, Counter: true);

    /// <summary>The routed host veths of mark chain <paramref name="chain"/> (in the inet table).</summary>
    public static NftAddressSet InterfaceSet(string chain) => new(InterfacePrefix + chain, NftKeyType.IfName, Counter: true);

    public static NftRule InterfaceLookup(string chain) => Lookup(FwmarkRuleset.Prerouting.Name, InterfaceSet(chain), chain, $"routed pods of {chain}");

    public static IReadOnlyList<NftRule> BridgePreroutingRules(IEnumerable<string> markChains) =>
        [.. markChains.Select(c => Lookup(BridgePrerouting.Name, PortSet(c), c, $"bridged pods of {c}"))];

    /// <summary>The bridge family's copy of a mark chain: only the mark (no conntrack here).</summary>
    public static IReadOnlyList<NftRule> BridgeMarkRules(MarkSpec mark) =>
    [
        new(
            mark.ChainName,
            [
                new MetaLoad(MetaAttr.KeyMark, Register.R1),
                new BitwiseMaskXor(Register.R1, Register.R1, ~mark.Mask, mark.Value),
                new MetaSet(MetaAttr.KeyMark, Register.R1),
                new Counter(),
            ],
            $"meta mark set meta mark & 0x{~mark.Mask:x8} | 0x{mark.Value:x8} counter",
            $"set mark 0x{mark.Value:x8} under mask 0x{mark.Mask:x8}"),
    ];

    /// <summary>One rule per distinct (value, mask) in use: reply-direction packets lose the bits the bridge gave them.</summary>
    public static IReadOnlyList<NftRule> RepliesRules(IEnumerable<MarkSpec> marks) =>
    [
        .. marks.Select(m => (m.Value, m.Mask)).Distinct().Order().Select(m => new NftRule(
            Replies.Name,
            [
                new CtLoad(CtAttr.KeyDirection, Register.R1),
                new CmpEq(Register.R1, [1]), // IP_CT_DIR_REPLY
                new MetaLoad(MetaAttr.KeyMark, Register.R1),
                new BitwiseMaskXor(Register.R1, Register.R1, m.Mask, 0),
                new CmpEq(Register.R1, BitConverter.GetBytes(m.Value)), // a mark register is host order
                new MetaLoad(MetaAttr.KeyMark, Register.R1),
                new BitwiseMaskXor(Register.R1, Register.R1, ~m.Mask, 0),
                new MetaSet(MetaAttr.KeyMark, Register.R1),
                new Counter(),
            ],
            $"ct direction reply meta mark & 0x{m.Mask:x8} == 0x{m.Value:x8} meta mark set meta mark & 0x{~m.Mask:x8} counter",
            $"replies keep the main path: clear mark 0x{m.Value:x8} under mask 0x{m.Mask:x8}")),
    ];

    /// <summary>
    /// For a connmark chain, in the inet prerouting chain after the lookups: a bridged pod's packet
    /// arrives already marked (by the bridge table), and only the inet mark chain can save it to conntrack.
    /// </summary>
    public static NftRule ConnmarkSave(MarkSpec mark) => new(
        FwmarkRuleset.Prerouting.Name,
        [
            new MetaLoad(MetaAttr.KeyMark, Register.R1),
            new BitwiseMaskXor(Register.R1, Register.R1, mark.Mask, 0),
            new CmpEq(Register.R1, BitConverter.GetBytes(mark.Value)),
            new ImmediateVerdict(Verdict.Goto, mark.ChainName),
        ],
        $"meta mark & 0x{mark.Mask:x8} == 0x{mark.Value:x8} goto {mark.ChainName}",
        $"bridged pods of {mark.ChainName}: save to conntrack");

    private static NftRule Lookup(string inChain, NftAddressSet set, string chain, string comment) =>
        new(
            inChain,
            [
                new MetaLoad(MetaAttr.KeyIifName, Register.R1),
                new Lookup(set.Name, Register.R1),
                new ImmediateVerdict(Verdict.Goto, chain),
            ],
            $"iifname @{set.Name} goto {chain}",
            comment);
}
