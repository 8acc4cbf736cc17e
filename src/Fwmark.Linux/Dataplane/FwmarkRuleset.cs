using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Dataplane;

/// <summary>
/// The shape of the `inet fwmark` table, as typed nf_tables objects:
/// <code>
/// table inet fwmark {
///     set pods4-mark-VVVVVVVV-MMMMMMMM { type ipv4_addr; counter }   # the pods of one mark chain, created with it; a counter per element
///     set pods6-mark-VVVVVVVV-MMMMMMMM { type ipv6_addr; counter }
///     chain prerouting { type filter hook prerouting priority mangle; policy accept;
///         ct direction reply return                    # replies of inbound connections keep the main path
///         ip saddr @pods4-mark-VVVVVVVV-MMMMMMMM goto mark-VVVVVVVV-MMMMMMMM
///         ip6 saddr @pods6-mark-VVVVVVVV-MMMMMMMM goto mark-VVVVVVVV-MMMMMMMM
///         ...                                          # two rules per mark chain, ordered by chain name
///     }
///     chain mark-VVVVVVVV-MMMMMMMM {                   # one per (value, mask), shared by networks
///         meta mark set meta mark &amp; ~M | V counter }
///     chain mark-VVVVVVVV-MMMMMMMM-connmark {          # the same with connmark: true, plus the save
///         meta mark set meta mark &amp; ~M | V counter
///         ct mark set ct mark &amp; ~M | V }
///     chain connmark-VVVVVVVV-MMMMMMMM { ... }         # restore on replies, see ConnmarkRules
/// }
/// </code>
/// Untracked packets have no conntrack entry, so the `ct` expression breaks out of the first rule
/// and they fall through to the set lookups: they are marked (fail closed).
///
/// Why plain sets and not one verdict map "address : goto chain": an element carrying a goto makes
/// the kernel re-validate the whole table at commit, which walks every element of the map, so each
/// ADD cost O(pods) (1.4 ms of kernel time per commit at 10,000 pods). Plain set elements carry no
/// verdict, the gotos live in a fixed number of rules, and a commit costs the same at any size.
/// Per packet: one hash lookup per mark chain in use (a handful), independent of the number of pods.
/// </summary>
internal static class FwmarkRuleset
{
    extension(MarkSpec mark)
    {
        /// <summary>
        /// The nftables chain that applies this (value, mask), "mark-VVVVVVVV-MMMMMMMM[-connmark]"; shared
        /// by every network using it. A name of the dataplane's, not of the config: hence not on <see cref="MarkSpec"/>.
        /// </summary>
        public string ChainName => $"mark-{mark.Value:x8}-{mark.Mask:x8}{(mark.Connmark ? "-connmark" : "")}";
    }

    public static readonly NftTable Table = new(NfNetlink.FamilyInet, "fwmark");

    private const string Prefix4 = "pods4-";

    private const string Prefix6 = "pods6-";

    /// <summary>Mangle priority (−150): before DNAT and before the routing decision.</summary>
    public static readonly NftChain Prerouting = new("prerouting", new NftHook("filter", InetHook.Prerouting, -150, Verdict.Accept));

    public static readonly NftRule ReplyReturn = new(
        Prerouting.Name,
        [new CtLoad(CtAttr.KeyDirection, Register.R1), new CmpEq(Register.R1, [1]), new ImmediateVerdict(Verdict.Return)],
        "ct direction reply return",
        "replies of connections opened to the pod keep the main path");

    /// <summary>
    /// The IPv4 pods of mark chain <paramref name="chain"/> (set names may be 256 bytes: NFT_SET_MAXNAMELEN).
    /// Each element has its own counter (`fwmark status`, metrics): see docs/cli.md for the per-packet cost
    /// and how sets of an older version, made without, are converted.
    /// </summary>
    public static NftAddressSet Set4(string chain) => new(Prefix4 + chain, NftKeyType.IPv4Address, Counter: true);

    public static NftAddressSet Set6(string chain) => new(Prefix6 + chain, NftKeyType.IPv6Address, Counter: true);

    /// <summary>Both sets of a mark chain.</summary>
    public static IReadOnlyList<NftAddressSet> SetsOf(string chain) => [Set4(chain), Set6(chain)];

    /// <summary>The set of mark chain <paramref name="chain"/> that holds <paramref name="address"/>'s family.</summary>
    public static NftAddressSet SetFor(IPAddress address, string chain) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? Set6(chain) : Set4(chain);

    /// <summary>
    /// The mark chains in use, read from the names of our sets (every mark chain is created with its
    /// two sets, and neither is ever deleted), plus <paramref name="extra"/>; ordered by name so the
    /// prerouting chain has one canonical form. Names we did not make are ignored.
    /// </summary>
    public static List<string> MarkChains(IEnumerable<string> setNames, string? extra = null)
    {
        var chains = setNames
            .Select(ChainOfSet)
            .OfType<string>()
            .Where(c => ParseMarkChain(c) is not null)
            .ToHashSet(StringComparer.Ordinal);
        if (extra is not null)
        {
            chains.Add(extra);
        }

        return [.. chains.Order(StringComparer.Ordinal)];
    }

    /// <summary>Sets in our table whose names this build would not make (a different fwmark version's).</summary>
    public static List<string> UnknownSets(IEnumerable<string> setNames) =>
    [
        .. setNames.Where(n => ChainOfSet(n) is not { } chain || ParseMarkChain(chain) is null),
    ];

    /// <summary>The mark chain a set of ours belongs to (after its "pods4-", "pods6-" or "ifaces-" prefix); null for other names.</summary>
    private static string? ChainOfSet(string set) =>
        set.StartsWith(Prefix4, StringComparison.Ordinal) || set.StartsWith(Prefix6, StringComparison.Ordinal) ? set[Prefix4.Length..]
        : set.StartsWith(InterfaceRuleset.InterfacePrefix, StringComparison.Ordinal) ? set[InterfaceRuleset.InterfacePrefix.Length..]
        : null;

    /// <summary>The mark a chain name "mark-VVVVVVVV-MMMMMMMM[-connmark]" stands for; null for any other name.</summary>
    public static MarkSpec? ParseMarkChain(string chain)
    {
        var parts = chain.Split('-');
        if (parts.Length is not (3 or 4) || parts[0] != "mark" || (parts.Length == 4 && parts[3] != "connmark")
            || parts[1].Length != 8 || parts[2].Length != 8
            || !uint.TryParse(parts[1], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            || !uint.TryParse(parts[2], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var mask)
            || mask == 0 || (value & ~mask) != 0)
        {
            return null;
        }

        var mark = new MarkSpec(chain, value, mask) { Connmark = parts.Length == 4 };
        return mark.ChainName == chain ? mark : null;
    }

    /// <summary>
    /// The prerouting chain for the given mark chains: the reply return, then per chain the routed-interface
    /// lookup and the two address lookups, then the conntrack save for bridged pods of connmark chains.
    /// </summary>
    public static IReadOnlyList<NftRule> PreroutingRules(IReadOnlyList<string> markChains) =>
    [
        ReplyReturn,
        .. markChains.SelectMany(c => new[] { InterfaceRuleset.InterfaceLookup(c), Select4(c), Select6(c) }),
        .. markChains.Select(ParseMarkChain).OfType<MarkSpec>().Where(m => m.Connmark).Select(InterfaceRuleset.ConnmarkSave),
    ];

    /// <summary>Every set a mark chain comes with in the inet table: its two address sets and its routed-interface set.</summary>
    public static IReadOnlyList<NftAddressSet> InetSetsOf(string chain) => [Set4(chain), Set6(chain), InterfaceRuleset.InterfaceSet(chain)];

    private static NftRule Select4(string chain) =>
        new(
            Prerouting.Name,
            [
                new MetaLoad(MetaAttr.KeyNfProto, Register.R1),
                new CmpEq(Register.R1, [NfNetlink.FamilyIPv4]),
                new PayloadLoad(Offset: 12, Length: 4, Register.R1),
                new Lookup(Set4(chain).Name, Register.R1),
                new ImmediateVerdict(Verdict.Goto, chain),
            ],
            $"ip saddr @{Set4(chain).Name} goto {chain}",
            $"IPv4 pods of {chain}");

    private static NftRule Select6(string chain) =>
        new(
            Prerouting.Name,
            [
                new MetaLoad(MetaAttr.KeyNfProto, Register.R1),
                new CmpEq(Register.R1, [NfNetlink.FamilyIPv6]),
                new PayloadLoad(Offset: 8, Length: 16, Register.R1),
                new Lookup(Set6(chain).Name, Register.R1),
                new ImmediateVerdict(Verdict.Goto, chain),
            ],
            $"ip6 saddr @{Set6(chain).Name} goto {chain}",
            $"IPv6 pods of {chain}");

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
