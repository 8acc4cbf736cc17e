using System.Text.Json.Nodes;

namespace Fwmark.Testbed.Cni;

/// <summary>
/// One attachment as a runtime describes it to a chain: the container, its netns and interface, the
/// CNI_ARGS string and the capability values the runtime would offer (only those a plugin declares reach it).
/// </summary>
public sealed record CniAttachment(string ContainerId, string NetnsPath, string IfName = "eth0")
{
    /// <summary>The raw CNI_ARGS value, e.g. "IgnoreUnknown=1;K8S_POD_NAMESPACE=default".</summary>
    public string CniArgs { get; init; } = "";

    /// <summary>Capability name → value, e.g. "io.kubernetes.cri.pod-annotations" → {"cni.fwmark.net/name": "vpn"}.</summary>
    public IReadOnlyDictionary<string, JsonNode?> CapabilityArgs { get; init; } = new Dictionary<string, JsonNode?>();
}
