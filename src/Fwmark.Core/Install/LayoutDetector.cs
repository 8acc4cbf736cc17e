namespace Fwmark.Core.Install;

/// <summary>
/// Finds the CNI dirs of the node under a <see cref="HostRoot"/>, from the files the runtimes themselves read:
/// <list type="bullet">
/// <item>k3s: its agent writes <c>10-flannel.conflist</c> into <c>/var/lib/rancher/k3s/agent/etc/cni/net.d</c> on every start
///   (k3s#2138) and generates containerd's config (<c>agent/etc/containerd/config.toml</c>) naming the bin dir
///   (<c>/var/lib/rancher/k3s/data/cni</c> on current releases, <c>data/current/bin</c> on older ones). Since the file is
///   rewritten, fwmark writes its own conflist, unless <c>--flannel-cni-conf FILE</c> is in use: then k3s copies FILE over
///   10-flannel.conflist at start, so editing FILE (and the current copy) makes fwmark survive restarts by itself.</item>
/// <item>containerd (kubeadm and friends): the CRI plugin's <c>cni.bin_dir</c>/<c>bin_dirs</c> and <c>conf_dir</c> in
///   <c>/etc/containerd/config.toml</c> (config version 1, 2 and 3 table names), else /opt/cni/bin and /etc/cni/net.d.</item>
/// <item>podman with the CNI backend: <c>cni_plugin_dirs</c> and <c>network_config_dir</c> from containers.conf
///   (/usr/share/containers, then /etc/containers, then its .d drop-ins; later files win); netavark is refused.</item>
/// </list>
/// Autodetection refuses to guess when the root shows more than one runtime: say --layout.
/// </summary>
public static class LayoutDetector
{
    public const string K3sDataDir = "/var/lib/rancher/k3s";
    public const string K3sConfDir = "/var/lib/rancher/k3s/agent/etc/cni/net.d";
    public const string K3sBinDir = "/var/lib/rancher/k3s/data/cni";
    public const string K3sOldBinDir = "/var/lib/rancher/k3s/data/current/bin";
    public const string K3sContainerdConfig = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml";
    public const string K3sConfig = "/etc/rancher/k3s/config.yaml";
    public const string K3sFlannelConflist = "10-flannel.conflist";
    public const string ContainerdConfig = "/etc/containerd/config.toml";
    public const string DefaultConfDir = "/etc/cni/net.d";
    public const string DefaultBinDir = "/opt/cni/bin";

    /// <summary>containers.conf in the order podman reads them; later ones override earlier ones.</summary>
    public static readonly string[] ContainersConfs = ["/usr/share/containers/containers.conf", "/etc/containers/containers.conf"];

    public const string ContainersConfDropIns = "/etc/containers/containers.conf.d";

    /// <summary>podman's built-in cni_plugin_dirs (used when no containers.conf sets them).</summary>
    public static readonly string[] PodmanDefaultPluginDirs = ["/usr/local/libexec/cni", "/usr/libexec/cni", "/usr/local/lib/cni", "/usr/lib/cni", "/opt/cni/bin"];

    // The CRI plugin's CNI table: config version 1 ("cri"), 2 (grpc.v1.cri) and 3 (containerd 2.x, cri.v1.runtime).
    // MiniToml joins header parts without their quotes.
    private static readonly string[] CriCniTables = ["plugins.io.containerd.cri.v1.runtime.cni", "plugins.io.containerd.grpc.v1.cri.cni", "plugins.cri.cni"];

    public static CniLayout Detect(HostRoot root, LayoutOptions options)
    {
        var kind = options.Kind ?? Guess(root);
        var layout = kind switch
        {
            LayoutKind.K3s => K3s(root, options),
            LayoutKind.Containerd => Containerd(root, ContainerdConfig, DefaultConfDir, DefaultBinDir, LayoutKind.Containerd),
            _ => Podman(root, options),
        };
        if (options.ConfDir is { } confDir)
        {
            layout = layout with { ConfDir = confDir, Reason = layout.Reason + "; conf dir from --conf-dir" };
        }

        if (options.BinDir is { } binDir)
        {
            layout = layout with { BinDir = binDir, Reason = layout.Reason + "; bin dir from --bin-dir" };
        }

        if (options.OwnConflist && layout.Mode != ConflistMode.OwnConflist)
        {
            layout = layout with { Mode = ConflistMode.OwnConflist, Targets = null };
        }

        return layout;
    }

    private static LayoutKind Guess(HostRoot root)
    {
        var found = new List<(LayoutKind Kind, string Evidence)>();
        if (root.DirectoryExists(K3sDataDir) || root.FileExists(K3sConfig))
        {
            found.Add((LayoutKind.K3s, K3sDataDir));
        }

        if (root.FileExists(ContainerdConfig))
        {
            found.Add((LayoutKind.Containerd, ContainerdConfig));
        }

        var podmanConf = ContainersConfs.FirstOrDefault(root.FileExists);
        if (podmanConf is not null)
        {
            found.Add((LayoutKind.Podman, podmanConf));
        }

        return found.Count switch
        {
            1 => found[0].Kind,
            0 => throw new InstallException($"failed to detect the CNI layout under {root.Path}: none of {K3sDataDir}, {ContainerdConfig}, {string.Join(", ", ContainersConfs)} exists (say --layout k3s|containerd|podman)"),
            _ => throw new InstallException($"failed to detect the CNI layout under {root.Path}: found {string.Join(" and ", found.Select(f => $"{CniLayout.Name(f.Kind)} ({f.Evidence})"))}; say --layout"),
        };
    }

    private static CniLayout K3s(HostRoot root, LayoutOptions options)
    {
        var layout = Containerd(root, K3sContainerdConfig, K3sConfDir, root.DirectoryExists(K3sBinDir) || !root.DirectoryExists(K3sOldBinDir) ? K3sBinDir : K3sOldBinDir, LayoutKind.K3s);
        var flannelConf = options.FlannelCniConf ?? K3sConfigValue(root, "flannel-cni-conf");
        if (flannelConf is null)
        {
            return layout with { Mode = ConflistMode.OwnConflist, Reason = layout.Reason + "; k3s rewrites 10-flannel.conflist at start, so fwmark writes its own" };
        }

        return layout with
        {
            Mode = ConflistMode.EditPrimary,
            Targets = [flannelConf, $"{layout.ConfDir}/{K3sFlannelConflist}"],
            Reason = layout.Reason + $"; --flannel-cni-conf {flannelConf}: k3s copies it to {K3sFlannelConflist} at start",
        };
    }

    private static CniLayout Containerd(HostRoot root, string configPath, string defaultConf, string defaultBin, LayoutKind kind)
    {
        var text = root.ReadText(configPath);
        var values = text is null ? [] : MiniToml.Parse(text);
        string? Lookup(string key) => CriCniTables.Select(t => values.GetValueOrDefault($"{t}.{key}")).FirstOrDefault(v => v is not null) is { } v
            ? v.Text ?? v.Items?.FirstOrDefault()
            : null;

        var confDir = Lookup("conf_dir");
        var binDir = Lookup("bin_dirs") ?? Lookup("bin_dir");
        var reason = text is null ? $"{configPath} not found: defaults" : $"from {configPath}";
        return new CniLayout
        {
            Kind = kind,
            ConfDir = confDir ?? defaultConf,
            BinDir = binDir ?? defaultBin,
            Mode = ConflistMode.EditPrimary,
            Sources = [configPath],
            Reason = reason,
        };
    }

    private static CniLayout Podman(HostRoot root, LayoutOptions options)
    {
        var files = ContainersConfs.ToList();
        var dropIns = root.Resolve(ContainersConfDropIns);
        if (Directory.Exists(dropIns))
        {
            files.AddRange(Directory.EnumerateFiles(dropIns, "*.conf").Order(StringComparer.Ordinal).Select(f => $"{ContainersConfDropIns}/{Path.GetFileName(f)}"));
        }

        IReadOnlyList<string>? pluginDirs = null;
        string? confDir = null;
        string? backend = null;
        var read = new List<string>();
        foreach (var file in files)
        {
            if (root.ReadText(file) is not { } text)
            {
                continue;
            }

            read.Add(file);
            var values = MiniToml.Parse(text);
            pluginDirs = values.GetValueOrDefault("network.cni_plugin_dirs")?.Items ?? pluginDirs;
            confDir = values.GetValueOrDefault("network.network_config_dir")?.Text ?? confDir;
            backend = values.GetValueOrDefault("network.network_backend")?.Text ?? backend;
        }

        if (backend is not null && backend != "cni")
        {
            throw new InstallException($"failed to install for podman: containers.conf sets network_backend = \"{backend}\"; fwmark is a CNI plugin and needs network_backend = \"cni\"");
        }

        var dirs = pluginDirs ?? PodmanDefaultPluginDirs;
        // podman takes a plugin from the first dir that has it: install into the first dir that exists, so no
        // older copy earlier in the list can shadow ours.
        var binDir = dirs.FirstOrDefault(root.DirectoryExists) ?? dirs.FirstOrDefault() ?? DefaultBinDir;
        var conf = confDir ?? DefaultConfDir;
        return new CniLayout
        {
            Kind = LayoutKind.Podman,
            ConfDir = conf,
            BinDir = binDir,
            Mode = ConflistMode.EditPrimary,
            Network = options.Network,
            Sources = files,
            Reason = (read.Count == 0 ? "no containers.conf: podman defaults" : $"from {string.Join(", ", read)}") + $"; cni_plugin_dirs {string.Join(":", dirs)}",
        };
    }

    /// <summary>A top-level "key: value" of k3s's config.yaml (k3s's flags without the dashes); null when absent.</summary>
    private static string? K3sConfigValue(HostRoot root, string key)
    {
        if (root.ReadText(K3sConfig) is not { } text)
        {
            return null;
        }

        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.TrimEnd();
            if (trimmed.StartsWith(key + ":", StringComparison.Ordinal))
            {
                var value = trimmed[(key.Length + 1)..].Trim().Trim('"', '\'');
                return value.Length > 0 ? value : null;
            }
        }

        return null;
    }
}
