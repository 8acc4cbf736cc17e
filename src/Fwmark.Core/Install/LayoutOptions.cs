namespace Fwmark.Core.Install;

/// <summary>What the operator said on the command line; everything null is found on the node.</summary>
public sealed record LayoutOptions
{
    public LayoutKind? Kind { get; init; }

    /// <summary>Overrides the conf dir of the layout (--conf-dir).</summary>
    public string? ConfDir { get; init; }

    /// <summary>Overrides the bin dir of the layout (--bin-dir).</summary>
    public string? BinDir { get; init; }

    /// <summary>k3s --flannel-cni-conf FILE (also read from /etc/rancher/k3s/config.yaml).</summary>
    public string? FlannelCniConf { get; init; }

    /// <summary>podman: the network whose conflist gets fwmark (default: the first conflist).</summary>
    public string? Network { get; init; }

    /// <summary>Force <see cref="ConflistMode.OwnConflist"/> (a primary daemon that rewrites its conflist, e.g. flannel's install-cni).</summary>
    public bool OwnConflist { get; init; }
}
