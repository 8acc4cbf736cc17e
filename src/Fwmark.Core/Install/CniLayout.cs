namespace Fwmark.Core.Install;

/// <summary>Which runtime's files the installer works on.</summary>
public enum LayoutKind
{
    K3s,
    Containerd,
    Podman,
}

/// <summary>How fwmark gets into the chain the runtime loads.</summary>
public enum ConflistMode
{
    /// <summary>Insert the fwmark object into the primary's own conflist (nobody rewrites it: podman, a hand-made containerd conflist).</summary>
    EditPrimary,

    /// <summary>
    /// Write <see cref="CniLayout.OwnConflistName"/>, a copy of the primary's conflist plus fwmark that sorts
    /// first, and leave the primary's file alone: for primaries that rewrite their file (k3s on every start).
    /// </summary>
    OwnConflist,
}

/// <summary>
/// Where one node's runtime finds CNI configs and plugins, as host paths (see <see cref="HostRoot"/>).
/// <see cref="Targets"/> are the conflists to edit in <see cref="ConflistMode.EditPrimary"/>; null means "the
/// one the runtime loads": the lexically first config file of <see cref="ConfDir"/> (libcni sorts by name and
/// containerd's CRI loads only the first). <see cref="Reason"/> says how each path was found, for the log.
/// </summary>
public sealed record CniLayout
{
    public const string OwnConflistName = "00-fwmark.conflist";

    public const string BinaryName = "fwmark";

    public required LayoutKind Kind { get; init; }

    public required string ConfDir { get; init; }

    public required string BinDir { get; init; }

    public required ConflistMode Mode { get; init; }

    /// <summary>EditPrimary only: the files to edit; null = the conf dir's first config file.</summary>
    public IReadOnlyList<string>? Targets { get; init; }

    /// <summary>podman: edit the conflist whose "name" is this network instead of the first one.</summary>
    public string? Network { get; init; }

    /// <summary>Host files read to find the dirs (they must be visible under the root, e.g. mounted into the installer's container).</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    public string Reason { get; init; } = "";

    public string BinaryPath => $"{BinDir.TrimEnd('/')}/{BinaryName}";

    public string OwnConflistPath => $"{ConfDir.TrimEnd('/')}/{OwnConflistName}";

    public static string Name(LayoutKind kind) => kind switch
    {
        LayoutKind.K3s => "k3s",
        LayoutKind.Containerd => "containerd",
        _ => "podman",
    };

    public static LayoutKind? ParseKind(string text) => text switch
    {
        "k3s" => LayoutKind.K3s,
        "containerd" or "kubeadm" => LayoutKind.Containerd,
        "podman" => LayoutKind.Podman,
        _ => null,
    };

    public string Describe() =>
        $"layout {Name(Kind)}: conf dir {ConfDir}, bin dir {BinDir}, " +
        (Mode == ConflistMode.OwnConflist ? $"own conflist {OwnConflistName}" : $"edit {(Targets is not null ? string.Join(", ", Targets) : Network is not null ? $"the conflist of network {Network}" : "the first conflist")}") +
        (Reason.Length > 0 ? $" ({Reason})" : "");
}
