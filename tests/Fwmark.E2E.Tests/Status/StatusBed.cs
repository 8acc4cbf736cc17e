using System.Text.Json.Nodes;
using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Processes;

namespace Fwmark.E2E.Tests.Status;

/// <summary>Runs <c>fwmark status</c> in a <see cref="RoutedBed"/>'s node namespace and reads its three outputs.</summary>
internal static class StatusRun
{
    public static CommandResult Run(RoutedBed bed, params string[] extra) =>
        FwmarkCli.Run(bed.Node, bed.FwmarkBinary, ["status", "--conf-dir", bed.ConfDir.Path, .. extra]);

    /// <summary>status --json; fails the test unless it exits 0 with the documented top-level shape.</summary>
    public static JsonObject Json(RoutedBed bed)
    {
        var result = Run(bed, "--json");
        Assert.True(result.Succeeded, $"fwmark status --json\n{result.Describe()}\n{bed.Diagnostics()}");
        var report = JsonNode.Parse(result.Stdout)!.AsObject();
        Assert.Equal(1, (int)report["version"]!);
        Assert.True((bool)report["complete"]!, result.Stdout);
        foreach (var key in new[] { "time", "confDir", "problems", "agent", "table", "marks", "attachments" })
        {
            Assert.True(report.ContainsKey(key), $"no \"{key}\" in\n{result.Stdout}");
        }

        return report;
    }

    public static JsonObject Attachment(JsonObject report, string containerId) =>
        report["attachments"]!.AsArray().Select(a => a!.AsObject()).SingleOrDefault(a => (string?)a["containerId"] == containerId)
        ?? throw new InvalidOperationException($"no attachment of container {containerId} in\n{report.ToJsonString()}");

    public static JsonObject Key(JsonObject attachment, string key) =>
        attachment["keys"]!.AsArray().Select(k => k!.AsObject()).SingleOrDefault(k => (string?)k["key"] == key)
        ?? throw new InvalidOperationException($"no key {key} in\n{attachment.ToJsonString()}");

    public static JsonObject Mark(JsonObject report, string name) =>
        report["marks"]!.AsArray().Select(m => m!.AsObject()).SingleOrDefault(m => (string?)m["name"] == name)
        ?? throw new InvalidOperationException($"no mark {name} in\n{report.ToJsonString()}");

    public static ulong Packets(JsonObject node) => (ulong?)node["packets"] ?? throw new InvalidOperationException($"no packet count (null) in {node.ToJsonString()}");

    public static ulong Bytes(JsonObject node) => (ulong?)node["bytes"] ?? throw new InvalidOperationException($"no byte count (null) in {node.ToJsonString()}");
}
