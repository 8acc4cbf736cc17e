using System.Net;
using System.Net.Sockets;
using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux;

/// <summary>
/// The shape of the `inet fwmark` table, as typed nf_tables objects:
/// <code>
/// table inet fwmark {
///     map pods4 { type ipv4_addr : verdict }          # pod address → goto its mark chain
///     map pods6 { type ipv6_addr : verdict }
///     chain prerouting { type filter hook prerouting priority mangle; policy accept;
///         ct direction reply return                    # replies of inbound connections keep the main path
///         ip saddr vmap @pods4
///         ip6 saddr vmap @pods6 }
///     chain mark-VVVVVVVV-MMMMMMMM {                   # one per (value, mask), shared by networks
///         meta mark set meta mark &amp; ~M | V counter }
///     chain mark-VVVVVVVV-MMMMMMMM-connmark {          # the same with connmark: true, plus the save
///         meta mark set meta mark &amp; ~M | V counter
///         ct mark set ct mark &amp; ~M | V }
///     chain connmark-VVVVVVVV-MMMMMMMM { ... }         # restore on replies, see ConnmarkRules
/// }
/// </code>
/// Untracked packets have no conntrack entry, so the `ct` expression breaks out of the first rule
/// and they fall through to the maps: they are marked (fail closed). Maps are plain hash maps,
/// so the per-packet cost does not depend on the number of pods.
/// </summary>
internal static class FwmarkRuleset
{
    public static readonly NftTable Table = new(NfNetlink.FamilyInet, "fwmark");

    public static readonly NftVerdictMap Pods4 = new("pods4", NftKeyType.IPv4Address);

    public static readonly NftVerdictMap Pods6 = new("pods6", NftKeyType.IPv6Address);

    public static readonly IReadOnlyList<NftVerdictMap> Maps = [Pods4, Pods6];

    /// <summary>Mangle priority (−150): before DNAT and before the routing decision.</summary>
    public static readonly NftChain Prerouting = new("prerouting", new NftHook("filter", InetHook.Prerouting, -150, Verdict.Accept));

    public static readonly IReadOnlyList<NftRule> PreroutingRules =
    [
        new(
            Prerouting.Name,
            [new CtLoad(CtAttr.KeyDirection, Register.R1), new CmpEq(Register.R1, [1]), new ImmediateVerdict(Verdict.Return)],
            "ct direction reply return",
            "replies of connections opened to the pod keep the main path"),
        new(
            Prerouting.Name,
            [
                new MetaLoad(MetaAttr.KeyNfProto, Register.R1),
                new CmpEq(Register.R1, [NfNetlink.FamilyIPv4]),
                new PayloadLoad(Offset: 12, Length: 4, Register.R1),
                new Lookup(Pods4.Name, Register.R1, Register.Verdict),
            ],
            $"ip saddr vmap @{Pods4.Name}",
            "IPv4 pod source address selects its mark chain"),
        new(
            Prerouting.Name,
            [
                new MetaLoad(MetaAttr.KeyNfProto, Register.R1),
                new CmpEq(Register.R1, [NfNetlink.FamilyIPv6]),
                new PayloadLoad(Offset: 8, Length: 16, Register.R1),
                new Lookup(Pods6.Name, Register.R1, Register.Verdict),
            ],
            $"ip6 saddr vmap @{Pods6.Name}",
            "IPv6 pod source address selects its mark chain"),
    ];

    public static NftVerdictMap MapFor(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? Pods6 : Pods4;

    public static NftChain MarkChain(MarkSpec mark) => new(mark.ChainName);

    /// <summary>
    /// mark = (mark &amp; ~mask) ^ value, which equals "| value" because value lies inside mask; with
    /// connmark the save follows, and must: it relies on the masked mark bits being exactly the value.
    /// </summary>
    public static IReadOnlyList<NftRule> MarkRules(MarkSpec mark) =>
        mark.Connmark ? [SetMark(mark), ConnmarkRules.Save(mark, mark.ChainName)] : [SetMark(mark)];

    private static NftRule SetMark(MarkSpec mark) =>
        new(
            mark.ChainName,
            [
                new MetaLoad(MetaAttr.KeyMark, Register.R1),
                new BitwiseMaskXor(Register.R1, Register.R1, ~mark.Mask, mark.Value),
                new MetaSet(MetaAttr.KeyMark, Register.R1),
                new Counter(),
            ],
            $"meta mark set meta mark & 0x{~mark.Mask:x8} | 0x{mark.Value:x8} counter",
            $"set mark 0x{mark.Value:x8} under mask 0x{mark.Mask:x8}");
}
