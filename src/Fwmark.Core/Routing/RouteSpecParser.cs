using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Config;

namespace Fwmark.Core.Routing;

/// <summary>
/// Reads <c>marks.&lt;name&gt;.route</c> into a <see cref="RouteSpec"/> in the style of
/// <see cref="PluginConfigParser"/>: every problem is added to the shared <see cref="ConfigProblems"/>
/// (path, value as written, what is wrong), a JSON null means "not set", an unknown key is a problem
/// (a typo such as "gatway" would otherwise route without a gateway).
/// </summary>
internal static class RouteSpecParser
{
    /// <summary>IFNAMSIZ is 16 including the NUL.</summary>
    public const int MaxDeviceNameBytes = CniNames.MaxIfNameBytes;

    private const string TableRange = "1..4294967295 except 253 (default), 254 (main) and 255 (local)";

    private const string RouteShape = """{"table": ..., "gateway": ..., "device": ...}""";

    /// <summary>
    /// The route at <paramref name="path"/> (e.g. <c>marks.gw2.route</c>), or null when it is absent,
    /// null or broken. <paramref name="markValue"/> is the mark's value when it parsed.
    /// </summary>
    public static RouteSpec? Parse(string path, JsonNode? node, uint? markValue, ConfigProblems problems)
    {
        if (node is null)
        {
            return null;
        }

        if (node is not JsonObject route)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} is not an object (expected {RouteShape})");
            return null;
        }

        var valid = KnownKeys.CheckExact(path, route, KnownKeys.Route, "a route", problems);
        if (markValue == 0)
        {
            // fwmark 0/M selects every packet whose M bits are clear: all of the node's unmarked traffic.
            problems.Invalid(path, "not allowed on a mark whose value is 0 (its rules, fwmark 0/mask, would match every packet that was never marked)");
            valid = false;
        }

        var table = ParseTable(ConfigJson.Member(path, "table"), route, problems);
        var (gateway4, gateway6, gatewaysValid) = ParseGateways(ConfigJson.Member(path, "gateway"), route["gateway"], problems);
        var (device, deviceValid) = ParseDevice(ConfigJson.Member(path, "device"), route["device"], problems);
        var (priority, priorityValid) = ParsePriority(ConfigJson.Member(path, "priority"), route["priority"], problems);
        var failClosed = ConfigJson.Boolean(ConfigJson.Member(path, "failClosed"), route["failClosed"], absent: true, problems, out var failClosedValid);

        if (gateway6 is not null && gateway6.IsIPv6LinkLocal && device is null && deviceValid)
        {
            problems.Invalid(ConfigJson.Member(path, "gateway"),
                $"{ConfigJson.Quote(gateway6.ToString())} is link-local, so \"device\" is required (it names the link the gateway is on)");
            valid = false;
        }

        if (!valid || table is not { } t || !gatewaysValid || !deviceValid || !priorityValid || !failClosedValid)
        {
            return null;
        }

        return new RouteSpec
        {
            Table = t,
            Gateway4 = gateway4,
            Gateway6 = gateway6,
            Device = device,
            Priority = priority,
            FailClosed = failClosed,
        };
    }

    /// <summary>
    /// Marks may share a table only when they route it the same way: the default routes in a table are
    /// node-wide, so two different gateways for one table would overwrite each other on every ADD.
    /// </summary>
    public static void CheckSharedTables(IReadOnlyDictionary<string, RouteSpec> routes, ConfigProblems problems)
    {
        foreach (var group in routes.OrderBy(r => r.Key, StringComparer.Ordinal).GroupBy(r => r.Value.Table))
        {
            var (firstName, first) = group.First();
            foreach (var (name, route) in group.Skip(1))
            {
                // Equals, not !=: IPAddress has no operator overload, so != would compare references.
                if (!Equals(route.Gateway4, first.Gateway4) || !Equals(route.Gateway6, first.Gateway6)
                    || route.Device != first.Device || route.FailClosed != first.FailClosed)
                {
                    problems.Invalid(
                        ConfigJson.Member(ConfigJson.Member(ConfigJson.Member("marks", name), "route"), "table"),
                        $"{route.Table} is also the table of mark {ConfigJson.Quote(firstName)}, which routes it differently (marks sharing a table need the same gateway, device and failClosed)");
                }
            }
        }
    }

    /// <summary>
    /// Two routed marks whose selectors can match the same packet (<c>(v1 ^ v2) &amp; m1 &amp; m2 == 0</c>)
    /// must route identically: otherwise the first matching rule decides, so one mark's pods leave
    /// through the other's table, and each ADD would withdraw the other mark's rules.
    /// </summary>
    public static void CheckOverlappingSelectors(
        IReadOnlyDictionary<string, MarkSpec> marks, IReadOnlyDictionary<string, RouteSpec> routes, ConfigProblems problems)
    {
        var routed = routes.OrderBy(r => r.Key, StringComparer.Ordinal).Where(r => marks.ContainsKey(r.Key)).ToList();
        for (var i = 0; i < routed.Count; i++)
        {
            for (var j = i + 1; j < routed.Count; j++)
            {
                var (a, b) = (marks[routed[i].Key], marks[routed[j].Key]);
                if (((a.Value ^ b.Value) & a.Mask & b.Mask) == 0 && routed[i].Value != routed[j].Value)
                {
                    problems.Invalid(
                        ConfigJson.Member(ConfigJson.Member("marks", b.Name), "route"),
                        $"mark 0x{b.Value:x}/0x{b.Mask:x} can match the same packets as mark {ConfigJson.Quote(a.Name)} (0x{a.Value:x}/0x{a.Mask:x}), which routes differently (give them bits that differ inside both masks, or the same route)");
                }
            }
        }
    }

    private static uint? ParseTable(string path, JsonObject route, ConfigProblems problems)
    {
        if (!route.TryGetPropertyValue("table", out var node) || node is null)
        {
            problems.Invalid(path, "missing (every route needs its own routing table, " + TableRange + ")");
            return null;
        }

        var table = MarkNumber.Read(node, out var problem);
        if (table is null)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} {problem.Replace("0..4294967295", TableRange, StringComparison.Ordinal)}");
            return null;
        }

        var reserved = table switch
        {
            0 => "is not a table id",
            253 => "is the kernel's default table",
            254 => "is the main table",
            255 => "is the local table",
            _ => null,
        };
        if (reserved is not null)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} {reserved} (expected {TableRange})");
            return null;
        }

        return table;
    }

    private static (IPAddress? V4, IPAddress? V6, bool Valid) ParseGateways(string path, JsonNode? node, ConfigProblems problems)
    {
        switch (node?.GetValueKind())
        {
            case null:
                return (null, null, true);
            case JsonValueKind.String:
                var single = ParseGateway(path, node, problems);
                return single is null ? (null, null, false)
                    : single.AddressFamily == AddressFamily.InterNetworkV6 ? (null, single, true) : (single, null, true);
            case JsonValueKind.Array:
                var list = node.AsArray();
                if (list.Count == 0)
                {
                    problems.Invalid(path, "[] is empty (expected an address, or a list with at most one address per family)");
                    return (null, null, false);
                }

                IPAddress? v4 = null, v6 = null;
                var valid = true;
                for (var i = 0; i < list.Count; i++)
                {
                    var itemPath = $"{path}[{i}]";
                    var address = ParseGateway(itemPath, list[i], problems);
                    if (address is null)
                    {
                        valid = false;
                        continue;
                    }

                    var isV6 = address.AddressFamily == AddressFamily.InterNetworkV6;
                    if ((isV6 ? v6 : v4) is not null)
                    {
                        problems.Invalid(itemPath, $"{ConfigJson.Quote(address.ToString())} is a second {(isV6 ? "IPv6" : "IPv4")} gateway (at most one per family)");
                        valid = false;
                    }
                    else if (isV6)
                    {
                        v6 = address;
                    }
                    else
                    {
                        v4 = address;
                    }
                }

                return (v4, v6, valid);
            default:
                problems.Invalid(path, $"{ConfigJson.Render(node)} is not a string or a list (expected \"address\" or [\"IPv4 address\", \"IPv6 address\"])");
                return (null, null, false);
        }
    }

    private static IPAddress? ParseGateway(string path, JsonNode? node, ConfigProblems problems)
    {
        if (node is null || node.GetValueKind() != JsonValueKind.String)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} is not a string (expected an IPv4 or IPv6 address)");
            return null;
        }

        var text = node.GetValue<string>();
        if (!StrictIp.TryParse(text, out var address))
        {
            problems.Invalid(path, $"{ConfigJson.Quote(text)} is not an IP address (expected e.g. \"192.0.2.1\" or \"2001:db8::1\", without prefix length or %zone)");
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            problems.Invalid(path, $"{ConfigJson.Quote(text)} is an IPv4-mapped IPv6 address (write the IPv4 address instead)");
            return null;
        }

        if (!IsUnicast(address))
        {
            problems.Invalid(path, $"{ConfigJson.Quote(text)} is not a unicast address (a gateway is one host's address)");
            return null;
        }

        return address;
    }

    private static bool IsUnicast(IPAddress address)
    {
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return false;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return !address.IsIPv6Multicast;
        }

        var first = address.GetAddressBytes()[0];
        return first < 224 && !address.Equals(IPAddress.Broadcast);
    }

    private static (string? Device, bool Valid) ParseDevice(string path, JsonNode? node, ConfigProblems problems)
    {
        if (node is null)
        {
            return (null, true);
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} is not a string (expected an interface name)");
            return (null, false);
        }

        var name = node.GetValue<string>();
        if (!IsValidDeviceName(name))
        {
            problems.Invalid(path, $"{ConfigJson.Quote(name)} is not a valid interface name (expected 1-{MaxDeviceNameBytes} bytes, not \".\" or \"..\", without '/', ':' or whitespace)");
            return (null, false);
        }

        return (name, true);
    }

    /// <summary>The kernel's rules for a device name (dev_valid_name), so a bad name fails here rather than at ADD.</summary>
    public static bool IsValidDeviceName(string name) => CniNames.IfNameProblem(name) is null;

    private static (uint Priority, bool Valid) ParsePriority(string path, JsonNode? node, ConfigProblems problems)
    {
        if (node is null)
        {
            return (RouteSpec.DefaultPriority, true);
        }

        var range = $"1..{RouteSpec.MaxPriority}: the rules at priority and priority+1 must come after the local table's rule at 0 and before the main table's rule at 32766";
        var priority = MarkNumber.Read(node, out var problem);
        if (priority is null)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} {problem.Replace("0..4294967295", range, StringComparison.Ordinal)}");
            return (0, false);
        }

        if (priority is 0 or > RouteSpec.MaxPriority)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} is out of range (expected {range})");
            return (0, false);
        }

        return (priority.Value, true);
    }
}
