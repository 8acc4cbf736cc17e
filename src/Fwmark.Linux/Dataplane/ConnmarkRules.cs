using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// nf_tables rules for <c>connmark: true</c>: the mark is saved into the conntrack mark on the
/// original direction and put back on reply packets before their routing decision, so replies are
/// policy-routed like the flow and pass strict rp_filter with <c>src_valid_mark=1</c>. Only the bits
/// inside the mask are read or written, in both directions, so Calico/Cilium/Tailscale bits survive.
/// <code>
/// chain mark-VVVVVVVV-MMMMMMMM {            # the mark chain, after "meta mark set ..."
///     ct mark set ct mark &amp; ~M | V }       # save: inside this chain meta mark &amp; M is exactly V
/// chain connmark-VVVVVVVV-MMMMMMMM {        # one base chain per (value, mask), shared like mark chains
///     type filter hook prerouting priority mangle; policy accept;
///     ct direction reply ct mark &amp; M == V meta mark set meta mark &amp; ~M | V counter }
/// }
/// </code>
/// Both rules use one bitwise with constant mask/xor (no register-to-register bitwise, which older
/// kernels lack). The restore lives in its own base chain so the shared prerouting chain stays the
/// same whatever marks exist; it runs on replies only, which the prerouting chain ignores, so its
/// order relative to that chain does not matter.
/// </summary>
internal static class ConnmarkRules
{
    /// <summary>Mangle priority, like the prerouting chain: before DNAT and the routing decision.</summary>
    public const int RestorePriority = -150;

    public static NftChain RestoreChain(MarkSpec mark) =>
        new($"connmark-{mark.Value:x8}-{mark.Mask:x8}", new NftHook("filter", InetHook.Prerouting, RestorePriority, Verdict.Accept));

    /// <summary>The save rule, to append to the mark chain <paramref name="chain"/> after the rule that sets the mark.</summary>
    public static NftRule Save(MarkSpec mark, string chain) => new(
        chain,
        [
            new CtLoad(CtAttr.KeyMark, Register.R1),
            new BitwiseMaskXor(Register.R1, Register.R1, ~mark.Mask, mark.Value),
            new CtSet(CtAttr.KeyMark, Register.R1),
        ],
        $"ct mark set ct mark & 0x{~mark.Mask:x8} | 0x{mark.Value:x8}",
        $"save mark 0x{mark.Value:x8} under mask 0x{mark.Mask:x8} to conntrack");

    /// <summary>The rules of <see cref="RestoreChain"/>.</summary>
    public static IReadOnlyList<NftRule> RestoreRules(MarkSpec mark) =>
    [
        new(
            RestoreChain(mark).Name,
            [
                new CtLoad(CtAttr.KeyDirection, Register.R1),
                new CmpEq(Register.R1, [1]), // IP_CT_DIR_REPLY
                new CtLoad(CtAttr.KeyMark, Register.R1),
                new BitwiseMaskXor(Register.R1, Register.R1, mark.Mask, 0),
                new CmpEq(Register.R1, BitConverter.GetBytes(mark.Value)), // a mark register is host order
                new MetaLoad(MetaAttr.KeyMark, Register.R1),
                new BitwiseMaskXor(Register.R1, Register.R1, ~mark.Mask, mark.Value),
                new MetaSet(MetaAttr.KeyMark, Register.R1),
                new Counter(),
            ],
            $"ct direction reply ct mark & 0x{mark.Mask:x8} == 0x{mark.Value:x8} meta mark set meta mark & 0x{~mark.Mask:x8} | 0x{mark.Value:x8} counter",
            $"restore mark 0x{mark.Value:x8} under mask 0x{mark.Mask:x8} on replies"),
    ];
}
