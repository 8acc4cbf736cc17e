using System.Net;

namespace Fwmark.Core.Routing;

/// <summary>A route in words for messages: "via 192.0.2.1 dev vpn0 in table 123 at priority 1000".</summary>
public static class RouteText
{
    public static string Describe(RouteSpec route)
    {
        var via = new[] { route.Gateway4, route.Gateway6 }.OfType<IPAddress>().Select(g => g.ToString()).ToList();
        var parts = new List<string>();
        if (via.Count > 0)
        {
            parts.Add($"via {string.Join(" and ", via)}");
        }

        if (route.Device is not null)
        {
            parts.Add($"dev {route.Device}");
        }

        parts.Add($"in table {route.Table} at priority {route.Priority}");
        if (!route.FailClosed)
        {
            parts.Add("without fail-closed route");
        }

        return string.Join(' ', parts);
    }
}
