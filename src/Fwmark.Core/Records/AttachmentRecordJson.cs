using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Config;
using Fwmark.Core.Paths;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Records;

/// <summary>
/// The file format of a record (docs/records.md), version 1:
/// <code>
/// {"version": 1, "network": "cbr0", "containerId": "…", "ifName": "eth0",
///  "addresses": ["10.88.0.5", "2001:db8:88::5"],
///  "mark": {"name": "vpn", "value": 16, "mask": 16, "connmark": false},
///  "route": {"table": 123, "gateway": ["192.168.2.1"], "device": "vpn0", "priority": 1000, "failClosed": true},
///  "pod": {"namespace": "default", "name": "web"},
///  "path": {"keying": "bridgePort", "hostInterface": "veth1a2b3c4d"},
///  "recordedAt": "2026-12-01T11:00:00.0000000Z", "bootId": "0f2c…"}
/// </code>
/// "route", "pod" and "bootId" are absent when unknown; "path" is absent on the address path ("keying" is
/// "bridgePort" or "inputInterface" otherwise). "route" uses the config's own keys, so a reader that
/// knows the config knows the record. Written with System.Text.Json.Nodes: no reflection (Native AOT).
/// </summary>
public static class AttachmentRecordJson
{
    public const int Version = 1;

    // Files for operators and the agent, not HTML: keep '+' and non-ASCII as they are.
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Serialize(AttachmentRecord record)
    {
        var json = new JsonObject
        {
            ["version"] = Version,
            ["network"] = record.Owner.Network,
            ["containerId"] = record.Owner.ContainerId,
            ["ifName"] = record.Owner.IfName,
            ["addresses"] = new JsonArray([.. record.Addresses.Select(a => (JsonNode)a.ToString())]),
            ["mark"] = new JsonObject
            {
                ["name"] = record.Mark.Name,
                ["value"] = record.Mark.Value,
                ["mask"] = record.Mark.Mask,
                ["connmark"] = record.Mark.Connmark,
            },
        };
        if (record.Route is { } route)
        {
            json["route"] = RouteJson(route);
        }

        if (record.PodNamespace is not null || record.PodName is not null)
        {
            json["pod"] = new JsonObject { ["namespace"] = record.PodNamespace, ["name"] = record.PodName };
        }

        if (record.Path is { HostInterface: { } host } path)
        {
            json["path"] = new JsonObject { ["keying"] = KeyingName(path.Keying), ["hostInterface"] = host };
        }

        json["recordedAt"] = record.RecordedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
        if (record.BootId is not null)
        {
            json["bootId"] = record.BootId;
        }

        return json.ToJsonString(Relaxed);
    }

    /// <exception cref="FormatException">The text is not a version-1 record; the message says what is wrong.</exception>
    public static AttachmentRecord Parse(string text)
    {
        var root = ParseObject(text);
        var version = Number(root, "version");
        if (version != Version)
        {
            throw new FormatException($"version {version} is not supported (this fwmark reads version {Version})");
        }

        var owner = new AttachmentOwner(String(root, "network"), String(root, "containerId"), String(root, "ifName"));
        var addresses = root["addresses"] is JsonArray list
            ? list.Select(a => a?.GetValueKind() == JsonValueKind.String && IPAddress.TryParse(a.GetValue<string>(), out var ip)
                ? ip
                : throw new FormatException($"addresses: {a?.ToJsonString() ?? "null"} is not an IP address")).ToList()
            : throw new FormatException("addresses: missing or not a list");
        var markNode = root["mark"] as JsonObject ?? throw new FormatException("mark: missing or not an object");
        var mark = new MarkSpec(String(markNode, "name"), Number(markNode, "value"), Number(markNode, "mask"))
        {
            Connmark = markNode["connmark"]?.GetValueKind() == JsonValueKind.True,
        };
        if (mark.Mask == 0 || (mark.Value & ~mark.Mask) != 0)
        {
            throw new FormatException($"mark: 0x{mark.Value:x}/0x{mark.Mask:x} is not a valid mark");
        }

        var route = root["route"] is { } routeNode ? ReadRoute(routeNode, mark.Value) : null;
        var pod = root["pod"] as JsonObject;
        var recordedAt = DateTimeOffset.TryParse(root["recordedAt"]?.GetValueKind() == JsonValueKind.String ? root["recordedAt"]!.GetValue<string>() : "",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw new FormatException("recordedAt: missing or not a time");
        return new AttachmentRecord(owner, addresses, mark, route, OptionalString(pod, "namespace"), OptionalString(pod, "name"), at)
        {
            BootId = OptionalString(root, "bootId"),
            Path = root["path"] is { } pathNode ? ReadPath(pathNode) : null,
        };
    }

    private static string KeyingName(MarkKeying keying) => keying == MarkKeying.BridgePort ? "bridgePort" : "inputInterface";

    private static AttachmentPath ReadPath(JsonNode node)
    {
        var path = node as JsonObject ?? throw new FormatException("path: not an object");
        var keying = String(path, "keying") switch
        {
            "bridgePort" => MarkKeying.BridgePort,
            "inputInterface" => MarkKeying.InputInterface,
            var other => throw new FormatException($"path: keying \"{other}\" is neither bridgePort nor inputInterface"),
        };
        var host = String(path, "hostInterface");
        return host.Length < 16 && host.All(char.IsAscii) && !host.Contains('/')
            ? new AttachmentPath(keying, host, "recorded at ADD")
            : throw new FormatException($"path: hostInterface \"{host}\" is not an interface name");
    }

    /// <summary>A network's routing claims: <c>{"version": 1, "network": "n", "routes": [{"value": 16, "mask": 16, "route": {...}}]}</c>.</summary>
    public static string SerializeClaims(string network, IEnumerable<RoutingClaim> claims) => new JsonObject
    {
        ["version"] = Version,
        ["network"] = network,
        ["routes"] = new JsonArray([.. claims.Select(c => (JsonNode)new JsonObject
        {
            ["value"] = c.Value,
            ["mask"] = c.Mask,
            ["route"] = RouteJson(c.Route),
        })]),
    }.ToJsonString(Relaxed);

    /// <exception cref="FormatException">Not a claims file.</exception>
    public static List<RoutingClaim> ParseClaims(string text)
    {
        var root = ParseObject(text);
        var network = String(root, "network");
        var routes = root["routes"] as JsonArray ?? throw new FormatException("routes: missing or not a list");
        return [.. routes.Select(r => r as JsonObject ?? throw new FormatException("routes: an entry is not an object"))
            .Select(r => new RoutingClaim(network, Number(r, "value"), Number(r, "mask"),
                ReadRoute(r["route"] ?? throw new FormatException("route: missing"), Number(r, "value"))))];
    }

    /// <summary>The route in the config's spelling.</summary>
    public static JsonObject RouteJson(RouteSpec route)
    {
        var json = new JsonObject { ["table"] = route.Table };
        var gateways = new[] { route.Gateway4, route.Gateway6 }.OfType<IPAddress>().Select(g => (JsonNode)g.ToString()).ToArray();
        if (gateways.Length > 0)
        {
            json["gateway"] = new JsonArray(gateways);
        }

        if (route.Device is not null)
        {
            json["device"] = route.Device;
        }

        json["priority"] = route.Priority;
        json["failClosed"] = route.FailClosed;
        return json;
    }

    private static RouteSpec ReadRoute(JsonNode node, uint markValue)
    {
        var problems = new ConfigProblems();
        var route = RouteSpecParser.Parse("route", node, markValue, problems);
        try
        {
            problems.ThrowIfAny();
        }
        catch (CniException e)
        {
            throw new FormatException(e.Details ?? e.Message);
        }

        return route ?? throw new FormatException("route: not a route");
    }

    private static JsonObject ParseObject(string text)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new FormatException("not a JSON object");
        }
        catch (JsonException e)
        {
            throw new FormatException($"not JSON ({JsonProblem.Describe(e)})");
        }
    }

    private static string String(JsonObject obj, string key) =>
        obj[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() is { Length: > 0 } s
            ? s
            : throw new FormatException($"{key}: missing or not a string");

    private static string? OptionalString(JsonObject? obj, string key) =>
        obj?[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static uint Number(JsonObject obj, string key) =>
        obj[key] is JsonValue v && v.TryGetValue<uint>(out var n) ? n
        : obj[key] is JsonValue w && w.GetValueKind() == JsonValueKind.Number && uint.TryParse(w.ToJsonString(), CultureInfo.InvariantCulture, out var m) ? m
        : throw new FormatException($"{key}: missing or not a number 0..4294967295");
}
