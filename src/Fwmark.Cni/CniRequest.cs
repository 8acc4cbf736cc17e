using System.Text.Json.Nodes;

namespace Fwmark.Cni;

/// <summary>One invocation, decoded from the CNI_* environment and stdin.</summary>
public sealed record CniRequest
{
    public required CniCommand Command { get; init; }

    /// <summary>CNI_CONTAINERID; empty for GC/STATUS.</summary>
    public string ContainerId { get; init; } = "";

    /// <summary>CNI_NETNS; may be empty on DEL.</summary>
    public string Netns { get; init; } = "";

    /// <summary>CNI_IFNAME; empty for GC/STATUS.</summary>
    public string IfName { get; init; } = "";

    /// <summary>CNI_ARGS parsed leniently ("K=V;K2=V2"), case-sensitive keys.</summary>
    public IReadOnlyDictionary<string, string> Args { get; init; } = new Dictionary<string, string>();

    /// <summary>The cniVersion the runtime injected into stdin; results are printed in this version's format.</summary>
    public required string CniVersion { get; init; }

    /// <summary>Network name (stdin "name").</summary>
    public required string NetworkName { get; init; }

    /// <summary>The whole stdin object: plugin-specific keys are read from here by the plugin.</summary>
    public required JsonObject Config { get; init; }

    /// <summary>stdin "prevResult", when present.</summary>
    public CniResult? PrevResult { get; init; }

    /// <summary>stdin "runtimeConfig", when present.</summary>
    public JsonObject? RuntimeConfig { get; init; }

    /// <summary>GC only: cni.dev/valid-attachments (or the legacy cni.dev/attachments); null when neither key is present.</summary>
    public IReadOnlyList<GcAttachment>? ValidAttachments { get; init; }
}

public sealed record GcAttachment(string ContainerId, string IfName);
