using System.Text.Json.Nodes;
using Fwmark.Cli;
using Fwmark.Core.Install;

namespace Fwmark.Commands;

/// <summary>The options install, uninstall and agent share; <see cref="From"/> reads them from the command table's parse.</summary>
internal sealed class InstallArguments
{
    // The options install, uninstall and agent declare to the command table (each takes a subset).
    public static readonly CliOption RootOption = new("--root", "DIR", "the host's root: every host path is taken under it (default /)");
    public static readonly CliOption LayoutOption = new("--layout", "KIND", "k3s, containerd or podman (default: detected)");
    public static readonly CliOption ConfigOption = new("--config", "FILE", "a JSON object with the plugin's keys (marks, defaultMark, namespaces, connmark, ...)");
    public static readonly CliOption DryRunOption = new("--dry-run", null, "print the diff, write nothing");
    public static readonly CliOption ConfDirOption = new("--conf-dir", "DIR", "the runtime's CNI conf dir (default: the layout's)");
    public static readonly CliOption BinDirOption = new("--bin-dir", "DIR", "the runtime's CNI bin dir (default: the layout's)");
    public static readonly CliOption FlannelCniConfOption = new("--flannel-cni-conf", "FILE", "k3s started with --flannel-cni-conf FILE");
    public static readonly CliOption NetworkOption = new("--network", "NAME", "podman: the network whose conflist gets fwmark");
    public static readonly CliOption OwnConflistOption = new("--own-conflist", null, "write fwmark's own conflist derived from the primary's instead of editing it");
    public static readonly CliOption BinaryOption = new("--binary", "FILE", "the plugin binary to copy (default: this executable)");
    public static readonly CliOption CheckOption = new("--check", null, "write nothing; exit 1 when a pod created now would not get fwmark");
    public static readonly CliOption RemoveKernelStateOption = new("--remove-kernel-state", null, "also delete table inet fwmark and the rules/routes with proto 243");

    public string Root { get; private init; } = "/";

    public bool DryRun { get; private init; }

    public bool RemoveKernelState { get; private init; }

    public bool Check { get; private init; }

    public string? ConfigFile { get; private init; }

    public string? BinaryFile { get; private init; }

    public LayoutOptions Layout { get; private init; } = new();

    /// <summary>What the command table's parser read; throws <see cref="CliUsageException"/> for a bad value.</summary>
    public static InstallArguments From(CliArguments args)
    {
        LayoutKind? kind = null;
        if (args.Value(LayoutOption) is { } layout)
        {
            kind = CniLayout.ParseKind(layout) ?? throw new CliUsageException($"--layout must be k3s, containerd or podman, not \"{layout}\"");
        }

        var parsed = new InstallArguments
        {
            Root = args.Value(RootOption, "/"),
            DryRun = args.Has(DryRunOption),
            RemoveKernelState = args.Has(RemoveKernelStateOption),
            Check = args.Has(CheckOption),
            ConfigFile = args.Value(ConfigOption),
            BinaryFile = args.Value(BinaryOption),
            Layout = new LayoutOptions
            {
                Kind = kind,
                ConfDir = args.Value(ConfDirOption),
                BinDir = args.Value(BinDirOption),
                FlannelCniConf = args.Value(FlannelCniConfOption),
                Network = args.Value(NetworkOption),
                OwnConflist = args.Has(OwnConflistOption),
            },
        };

        foreach (var path in new[] { parsed.Layout.ConfDir, parsed.Layout.BinDir, parsed.Layout.FlannelCniConf })
        {
            if (path is not null && !path.StartsWith('/'))
            {
                throw new CliUsageException($"host paths are absolute (as seen on the host, --root is prefixed): \"{path}\"");
            }
        }

        return parsed;
    }

    /// <summary>The fwmark element from --config, else from the install record; null with a message when neither exists.</summary>
    public JsonObject Plugin(InstallRecord? record)
    {
        if (ConfigFile is { } file)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InstallException($"failed to read config {file}: {e.Message}", e);
            }

            return FwmarkPluginObject.FromConfigText(text, file);
        }

        if (record is not null && JsonNode.Parse(record.Plugin) is JsonObject plugin)
        {
            return plugin;
        }

        throw new InstallException("failed to build the fwmark plugin object: --config FILE is required (a JSON object with the plugin's keys: marks, defaultMark, namespaces, connmark)");
    }

    /// <summary>The layout, defaulting the kind to the one recorded by an earlier install.</summary>
    public CniLayout DetectLayout(HostRoot root, InstallRecord? record) =>
        LayoutDetector.Detect(root, Layout.Kind is null && record is not null && CniLayout.ParseKind(record.Layout) is { } kind ? Layout with { Kind = kind } : Layout);
}
