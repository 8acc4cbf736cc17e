namespace Fwmark.Cri;

/// <summary>What a kubelet puts into a pod sandbox config that matters for CNI: identity and annotations.</summary>
public sealed record PodSandboxSpec(string Name, string Namespace = "default")
{
    /// <summary>The pod UID (CNI_ARGS K8S_POD_UID); unique per pod.</summary>
    public string Uid { get; init; } = Guid.NewGuid().ToString();

    /// <summary>Pod annotations; containerd hands them to plugins declaring io.kubernetes.cri.pod-annotations.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
}
