using System.Text.Json.Nodes;
using Fwmark.Core.Paths;

namespace Fwmark.Core.Status;

/// <summary>
/// The JSON form of a <see cref="StatusReport"/> (docs/cli.md has the schema). Counters are JSON numbers (exact up to
/// 2^53, beyond what a pod sends in years); a counter the kernel does not keep is null, never 0.
/// </summary>
public static class StatusJson
{
    public static JsonObject ToJson(StatusReport report) => new()
    {
        ["version"] = StatusReport.SchemaVersion,
        ["time"] = report.Time.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
        ["confDir"] = report.ConfDir,
        ["complete"] = report.Problems.Count == 0,
        ["problems"] = Array(report.Problems.Select(p => (JsonNode?)p)),
        ["agent"] = new JsonObject { ["running"] = report.Agent.Running, ["problem"] = report.Agent.Problem },
        ["table"] = new JsonObject { ["present"] = report.Table.Present, ["counters"] = report.Table.Counters },
        ["marks"] = Array(report.Marks.Select(Mark)),
        ["attachments"] = Array(report.Attachments.Select(Attachment)),
    };

    private static JsonObject Mark(MarkStatus mark) => new()
    {
        ["name"] = mark.Name,
        ["value"] = mark.Mark.Value,
        ["mask"] = mark.Mark.Mask,
        ["connmark"] = mark.Mark.Connmark,
        ["configured"] = mark.Configured,
        ["attachments"] = mark.Attachments,
        ["packets"] = mark.Packets,
        ["bytes"] = mark.Bytes,
        ["routing"] = mark.Routing is { } r ? Routing(r) : null,
    };

    private static JsonObject Routing(RoutingStatus routing) => new()
    {
        ["table"] = routing.Table,
        ["device"] = routing.Device,
        ["deviceUp"] = routing.DeviceUp,
        ["ipv4"] = Family(routing.IPv4),
        ["ipv6"] = Family(routing.IPv6),
        ["problems"] = Array(routing.Problems.Select(p => (JsonNode?)p)),
    };

    private static JsonObject Family(FamilyRouting family) => new()
    {
        ["wanted"] = family.Wanted,
        ["rule"] = family.Rule,
        ["defaultRoute"] = family.DefaultRoute,
        ["killSwitch"] = family.KillSwitch,
        ["routes"] = Array(family.Routes.Select(r => (JsonNode?)r)),
    };

    private static JsonObject Attachment(AttachmentStatus a) => new()
    {
        ["network"] = a.Network,
        ["containerId"] = a.ContainerId,
        ["ifName"] = a.IfName,
        ["podNamespace"] = a.PodNamespace,
        ["podName"] = a.PodName,
        ["mark"] = new JsonObject { ["name"] = a.MarkName, ["value"] = a.Mark.Value, ["mask"] = a.Mark.Mask, ["connmark"] = a.Mark.Connmark },
        ["state"] = StateName(a.State),
        ["packets"] = a.Packets,
        ["bytes"] = a.Bytes,
        ["comment"] = a.Comment,
        ["keys"] = Array(a.Keys.Select(k => (JsonNode?)new JsonObject
        {
            ["kind"] = KindName(k.Kind),
            ["key"] = k.Key,
            ["keying"] = KeyingName(k.Keying),
            ["inKernel"] = k.InKernel,
            ["inRecord"] = k.InRecord,
            ["packets"] = k.Counter?.Packets,
            ["bytes"] = k.Counter?.Bytes,
        })),
    };

    public static string StateName(AttachmentState state) => state switch
    {
        AttachmentState.Ok => "ok",
        AttachmentState.Partial => "partial",
        AttachmentState.NotInKernel => "not-in-kernel",
        _ => "no-record",
    };

    public static string KindName(MarkedKeyKind kind) => kind switch
    {
        MarkedKeyKind.IPv4 => "ipv4",
        MarkedKeyKind.IPv6 => "ipv6",
        _ => "interface",
    };

    /// <summary>The path words of the attachment record (docs/records.md): which table and set holds the key.</summary>
    public static string KeyingName(MarkKeying keying) => keying switch
    {
        MarkKeying.BridgePort => "bridgePort",
        MarkKeying.InputInterface => "inputInterface",
        _ => "address",
    };

    private static JsonArray Array(IEnumerable<JsonNode?> items) => [.. items];
}
