using System.Net;
using System.Net.Sockets;

namespace Fwmark.Linux.NfTables;

/// <summary>A table: the unit of ownership. Everything a transaction touches lives in one table.</summary>
internal sealed record NftTable(byte Family, string Name)
{
    public string FamilyName => Family switch
    {
        NfNetlink.FamilyInet => "inet",
        NfNetlink.FamilyIPv4 => "ip",
        NfNetlink.FamilyIPv6 => "ip6",
        NfNetlink.FamilyBridge => "bridge",
        _ => $"family{Family}",
    };

    public override string ToString() => $"{FamilyName} {Name}";
}

/// <summary>Where a base chain hooks in: chain type ("filter"), hook number, priority, policy.</summary>
internal sealed record NftHook(string Type, uint Number, int Priority, uint Policy)
{
    public string HookName => Number == InetHook.Prerouting ? "prerouting" : $"hook{Number}";

    public string PolicyName => Policy == Verdict.Accept ? "accept" : "drop";
}

/// <summary>A chain; with a <see cref="Hook"/> it is a base chain that packets enter.</summary>
internal sealed record NftChain(string Name, NftHook? Hook = null);

/// <summary>The key type of an address set (nft datatype ids TYPE_IPADDR / TYPE_IP6ADDR).</summary>
internal sealed record NftKeyType(string Name, uint TypeId, uint Length)
{
    public static readonly NftKeyType IPv4Address = new("ipv4_addr", 7, 4);
    public static readonly NftKeyType IPv6Address = new("ipv6_addr", 8, 16);

    /// <summary>An interface name: IFNAMSIZ bytes, NUL-padded (what `meta iifname` loads).</summary>
    public static readonly NftKeyType IfName = new("ifname", 41, 16);

    public static NftKeyType For(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? IPv6Address : IPv4Address;
}

/// <summary>
/// A plain hash set of addresses: no data, so no verdicts in its elements (adding one never makes
/// the kernel re-validate the table), and no interval flag, so lookups are O(1). With
/// <paramref name="Counter"/> the set carries a counter template (NFTA_SET_EXPR): the kernel gives every
/// element its own counter, which a lookup that matches the element updates (`fwmark status` reads them).
/// </summary>
internal sealed record NftAddressSet(string Name, NftKeyType Key, bool Counter = false);

/// <summary>
/// A rule: the expressions the kernel runs, the same rule in nft syntax (for logs and dry runs),
/// and the comment that identifies it when the chain is read back.
/// </summary>
internal sealed record NftRule(string Chain, IReadOnlyList<NftExpression> Expressions, string Text, string Comment)
{
    /// <summary>The expressions as the kernel would report them back (see <see cref="NftExpressionShape"/>).</summary>
    public IReadOnlyList<NftExpressionShape> Shapes => [.. Expressions.Select(NftExpressionShape.Of)];

    /// <summary>What the kernel reports back for this rule (comment plus decoded expressions), used to spot drift.</summary>
    public string Fingerprint => NftRuleInfo.MakeFingerprint(Comment, Shapes);
}

/// <summary>A set element: an address, with the owner in its comment.</summary>
internal sealed record NftElement(string Set, IPAddress Key, string? Comment = null)
{
    /// <summary>The key as the kernel stores it: the address in network byte order.</summary>
    public byte[] KeyBytes => Key.GetAddressBytes();
}
