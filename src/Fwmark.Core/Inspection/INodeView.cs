using System.Net.Sockets;

namespace Fwmark.Core.Inspection;

/// <summary>
/// A read-only look at the node's kernel state in the current network namespace, for
/// <c>fwmark doctor</c> (rtnetlink and nf_tables in production, a fake in tests). Nothing here writes.
/// </summary>
public interface INodeView
{
    /// <summary>Null when nf_tables can be programmed; otherwise why not (module missing, no CAP_NET_ADMIN...).</summary>
    string? NftablesProblem();

    /// <summary>Every policy routing rule of <paramref name="family"/>, in priority order.</summary>
    IReadOnlyList<NodeRule> Rules(AddressFamily family);

    /// <summary>The routes of table <paramref name="table"/>; empty when the table has none.</summary>
    IReadOnlyList<NodeRoute> Routes(AddressFamily family, uint table);

    /// <summary>Whether an interface called <paramref name="name"/> exists.</summary>
    bool HasLink(string name);

    /// <summary>A sysctl of this namespace, as its /proc/sys path, e.g. <c>net/ipv4/conf/all/rp_filter</c> (slashes: interface names may hold dots); null when it does not exist.</summary>
    string? Sysctl(string key);
}

/// <summary>One FIB rule. <paramref name="IsLookup"/>: its action is "lookup TABLE" (not unreachable, goto...).</summary>
/// <param name="HasOtherSelectors">It also matches on addresses, interfaces, tos, uid, "not"...: not a plain fwmark rule.</param>
public sealed record NodeRule(
    AddressFamily Family,
    uint Priority,
    uint Mark,
    uint Mask,
    uint Table,
    bool IsLookup,
    bool HasOtherSelectors,
    uint? SuppressPrefixLength,
    byte Protocol)
{
    /// <summary>Whether a packet whose mark is <paramref name="value"/> (in the bits of <paramref name="mask"/>) matches this rule's fwmark selector.</summary>
    public bool SelectsMark(uint value, uint mask) =>
        Mask != 0 && (Mask & ~mask) == 0 && (value & Mask) == Mark;

    public override string ToString() =>
        $"pref {Priority} fwmark 0x{Mark:x}/0x{Mask:x}{(IsLookup ? $" lookup {TableName(Table)}" : " (not a lookup)")}{(SuppressPrefixLength is { } s ? $" suppress_prefixlength {s}" : "")}";

    public static string TableName(uint table) => table switch
    {
        254 => "main",
        253 => "default",
        255 => "local",
        _ => table.ToString(),
    };
}

/// <summary>One route of a table, reduced to what doctor judges.</summary>
public sealed record NodeRoute(AddressFamily Family, uint Table, int PrefixLength, NodeRouteType Type, string? Device, uint Metric)
{
    /// <summary>A default route that drops: what keeps a steering table fail-closed.</summary>
    public bool IsFailClosedDefault => PrefixLength == 0 && Type is NodeRouteType.Unreachable or NodeRouteType.Blackhole or NodeRouteType.Prohibit;
}

public enum NodeRouteType
{
    Unicast,
    Unreachable,
    Blackhole,
    Prohibit,
    Other,
}
