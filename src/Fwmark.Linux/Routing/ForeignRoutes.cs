using Fwmark.Linux.Rtnetlink;

namespace Fwmark.Linux.Routing;

/// <summary>
/// Routes in the mark's table that fwmark did not make (another protocol). They are never deleted:
/// an operator may have put them there on purpose (docs/routing.md). But they decide where marked
/// traffic goes — a default route through the main gateway carries it whenever it beats fwmark's
/// routes, a leak the moment the VPN is down — so CHECK and reconcile report each one, and ADD's
/// warnings say what it does to traffic. The one exception is a route at the kill switch's metric:
/// the kernel keeps one default route per metric, so fail-closed is impossible beside it, and
/// fwmark replaces it with its unreachable route (and says so).
/// </summary>
internal static class ForeignRoutes
{
    public static IEnumerable<RouteInfo> In(IEnumerable<RouteInfo> table) =>
        table.Where(r => r.Protocol != RtnetlinkRouting.Protocol);

    /// <summary>`ip route` style text: "default via 198.51.100.1 dev eth1 metric 0 proto 4".</summary>
    public static string Describe(RtnlClient client, RouteInfo route)
    {
        var kind = route.Type == RouteKind.Unicast ? "" : route.Type == RouteKind.Unreachable ? "unreachable " : $"type {route.Type} ";
        var destination = route.DestinationLength == 0 ? "default" : $"{route.Destination}/{route.DestinationLength}";
        var via = route.Gateway is null ? "" : $" via {route.Gateway}";
        var dev = route.OutputInterface == 0 ? "" : $" dev {client.FindLink(route.OutputInterface)?.Name ?? $"#{route.OutputInterface}"}";
        return $"{kind}{destination}{via}{dev} metric {route.Metric} proto {ProtocolName(route.Protocol)}";
    }

    /// <summary>iproute2's names for the common protocols (rt_protos), the number otherwise.</summary>
    public static string ProtocolName(byte protocol) => protocol switch
    {
        2 => "kernel",
        3 => "boot",
        4 => "static",
        16 => "dhcp",
        _ => protocol.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>What selects exactly this route in `ip route del`: prefix, type, metric, protocol.</summary>
    public static string Selector(RouteInfo route)
    {
        var kind = route.Type == RouteKind.Unreachable ? "unreachable " : "";
        var destination = route.DestinationLength == 0 ? "default" : $"{route.Destination}/{route.DestinationLength}";
        return $"{kind}{destination} metric {route.Metric} proto {ProtocolName(route.Protocol)}";
    }

    /// <summary>
    /// What the route does to marked traffic, for CHECK and ADD's warnings. <paramref name="ours"/>: the
    /// metric of the default route fwmark keeps in this family (null when the config has none).
    /// </summary>
    public static string Effect(RouteInfo route, string described, uint? ours)
    {
        var family = Rtnl.FamilyName(route.Family);
        if (route.DestinationLength != 0)
        {
            return $"marked {family} traffic to {route.Destination}/{route.DestinationLength} follows it, not the route fwmark makes";
        }

        if (route.Type != RouteKind.Unicast)
        {
            return $"marked {family} traffic meets it (\"{described}\") whenever it is the best default route";
        }

        return ours is { } metric && metric < route.Metric
            ? $"marked {family} traffic leaves through it instead of being dropped whenever fwmark's default route is gone (e.g. the VPN device is down or deleted)"
            : $"marked {family} traffic leaves through it instead of fwmark's {(ours is null ? "unreachable" : "default")} route";
    }
}
