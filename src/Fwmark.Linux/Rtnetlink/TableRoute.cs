using System.Net;

namespace Fwmark.Linux.Rtnetlink;

/// <summary>
/// A default route in a policy table, of the two kinds fwmark makes: the real one
/// (<c>default [via GW] [dev DEV]</c>) and the fail-closed <c>unreachable default</c>. The metric tells
/// them apart: the kernel's replace and delete requests select routes by (table, prefix, metric), so
/// the two can be managed independently. <see cref="Describe"/> is valid `ip route` syntax.
/// </summary>
internal sealed record TableRoute(byte Family, uint Table, byte Type, IPAddress? Gateway, string? Device, uint Metric)
{
    /// <summary>The highest metric: the unreachable route only wins when nothing else is left.</summary>
    public const uint UnreachableMetric = uint.MaxValue;

    public bool IsUnreachable => Type == RouteKind.Unreachable;

    /// <summary>What the kernel would pick without a metric: 0 for IPv4, IP6_RT_PRIO_USER (1024) for IPv6.</summary>
    public static uint DefaultMetric(byte family) => family == Rtnl.AF_INET6 ? 1024u : 0u;

    public static TableRoute Unreachable(byte family, uint table) =>
        new(family, table, RouteKind.Unreachable, null, null, UnreachableMetric);

    public static TableRoute Default(byte family, uint table, IPAddress? gateway, string? device) =>
        new(family, table, RouteKind.Unicast, gateway, device, DefaultMetric(family));

    public string Describe()
    {
        if (IsUnreachable)
        {
            return $"unreachable default table {Table} metric {Metric}";
        }

        var via = Gateway is null ? "" : $" via {Gateway}";
        var dev = Device is null ? "" : $" dev {Device}";
        return $"default{via}{dev} table {Table} metric {Metric}";
    }

    /// <summary>"IPv4 route \"default via ...\"", for problems and errors.</summary>
    public override string ToString() => $"{Rtnl.FamilyName(Family)} route \"{Describe()}\"";
}
