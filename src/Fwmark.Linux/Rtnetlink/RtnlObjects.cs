using System.Net;

namespace Fwmark.Linux.Rtnetlink;

/// <summary>A FIB rule as the kernel reports it, reduced to what fwmark compares.</summary>
/// <param name="HasOtherSelectors">
/// Anything that narrows the rule beyond fwmark (addresses, tos, iif/oif, uid, ports, "not"...): such a
/// rule does not do what ours does even when priority, mark and table agree.
/// </param>
internal sealed record RuleInfo(
    byte Family,
    uint Priority,
    uint Mark,
    uint Mask,
    uint Table,
    uint? SuppressPrefixLength,
    byte Protocol,
    byte Action,
    bool HasOtherSelectors)
{
    public bool Matches(PolicyRule rule) =>
        Action == FibRuleAttr.ActionToTable
        && !HasOtherSelectors
        && Family == rule.Family
        && Priority == rule.Priority
        && Mark == rule.Mark
        && Mask == rule.Mask
        && Table == rule.Table
        && SuppressPrefixLength == rule.SuppressPrefixLength;

    /// <summary>The same rule as fwmark would write it (only meaningful for a plain lookup rule).</summary>
    public PolicyRule AsPolicyRule() => new(Family, Priority, Mark, Mask, Table, SuppressPrefixLength);
}

/// <summary>A route as the kernel reports it, reduced to what fwmark compares.</summary>
/// <param name="IsPlain">No source prefix, tos or multipath next hops, which fwmark never sets.</param>
/// <param name="Destination">RTA_DST; null for a default route (prefix length 0).</param>
internal sealed record RouteInfo(
    byte Family,
    uint Table,
    byte DestinationLength,
    byte Type,
    byte Protocol,
    uint Metric,
    IPAddress? Gateway,
    int OutputInterface,
    bool IsPlain,
    IPAddress? Destination = null)
{
    /// <summary>A plain default route: no destination prefix, no source prefix, tos or multipath.</summary>
    public bool IsDefault => DestinationLength == 0 && IsPlain;
}

/// <summary>A network interface: its index (what routes refer to) and whether it is administratively up.</summary>
internal sealed record LinkInfo(int Index, string Name, bool IsUp);
