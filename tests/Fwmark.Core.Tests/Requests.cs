using System.Text.Json.Nodes;
using Fwmark.Cni;

namespace Fwmark.Core.Tests;

/// <summary>Builds requests the way the dispatcher would hand them to the plugin.</summary>
internal static class Requests
{
    public const string Network = "mustredirect";
    public const string Container = "267346f9a6097af014f8321cae17ff503c2162d2e24e5281c88e38c0719ac0a9";

    public const string Config = """
        {
          "cniVersion": "1.0.0", "name": "mustredirect", "type": "fwmark",
          "capabilities": { "io.kubernetes.cri.pod-annotations": true },
          "marks": { "vpn": { "mark": 16, "mask": 16 }, "gw2": { "mark": "0x888" } },
          "namespaces": { "secure": "vpn" }
        }
        """;

    public static CniRequest Make(
        CniCommand command,
        string config = Config,
        Dictionary<string, string>? args = null,
        string? runtimeConfig = null,
        CniResult? prevResult = null,
        IReadOnlyList<GcAttachment>? valid = null) => new()
        {
            Command = command,
            ContainerId = command is CniCommand.Gc or CniCommand.Status ? "" : Container,
            IfName = command is CniCommand.Gc or CniCommand.Status ? "" : "eth0",
            Netns = command is CniCommand.Add or CniCommand.Check ? "/var/run/netns/cni-test" : "",
            CniVersion = "1.1.0",
            NetworkName = Network,
            Args = args ?? [],
            Config = JsonNode.Parse(config)!.AsObject(),
            RuntimeConfig = runtimeConfig is null ? null : JsonNode.Parse(runtimeConfig)!.AsObject(),
            PrevResult = prevResult,
            ValidAttachments = valid,
        };

    public static string Annotations(string annotationsJson) =>
        $$"""{"io.kubernetes.cri.pod-annotations": {{annotationsJson}}}""";
}
