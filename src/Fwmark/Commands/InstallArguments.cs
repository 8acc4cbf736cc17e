using System.Text.Json.Nodes;
using Fwmark.Core.Install;

namespace Fwmark.Commands;

/// <summary>The options install, uninstall and agent share; <see cref="Parse"/> returns a usage problem or null.</summary>
internal sealed class InstallArguments
{
    public string Root { get; private set; } = "/";

    public bool DryRun { get; private set; }

    public bool RemoveKernelState { get; private set; }

    public bool Help { get; private set; }

    public bool Check { get; private set; }

    public string? ConfigFile { get; private set; }

    public string? BinaryFile { get; private set; }

    public LayoutOptions Layout { get; private set; } = new();

    /// <param name="allowed">The flags the command accepts (besides --help).</param>
    public static (InstallArguments Arguments, string? Problem) Parse(string command, string[] args, params string[] allowed)
    {
        var parsed = new InstallArguments();
        for (var i = 0; i < args.Length; i++)
        {
            var flag = args[i];
            if (flag is "-h" or "--help")
            {
                parsed.Help = true;
                continue;
            }

            if (!allowed.Contains(flag))
            {
                return (parsed, $"{command}: unexpected argument \"{flag}\"");
            }

            if (flag is "--dry-run" or "--own-conflist" or "--remove-kernel-state" or "--check")
            {
                parsed.Check |= flag == "--check";
                parsed.DryRun |= flag == "--dry-run";
                parsed.RemoveKernelState |= flag == "--remove-kernel-state";
                parsed.Layout = flag == "--own-conflist" ? parsed.Layout with { OwnConflist = true } : parsed.Layout;
                continue;
            }

            if (i + 1 >= args.Length)
            {
                return (parsed, $"{command}: {flag} needs a value");
            }

            var value = args[++i];
            switch (flag)
            {
                case "--root":
                    parsed.Root = value;
                    break;
                case "--config":
                    parsed.ConfigFile = value;
                    break;
                case "--binary":
                    parsed.BinaryFile = value;
                    break;
                case "--layout":
                    if (CniLayout.ParseKind(value) is not { } kind)
                    {
                        return (parsed, $"{command}: --layout must be k3s, containerd or podman, not \"{value}\"");
                    }

                    parsed.Layout = parsed.Layout with { Kind = kind };
                    break;
                case "--conf-dir":
                    parsed.Layout = parsed.Layout with { ConfDir = value };
                    break;
                case "--bin-dir":
                    parsed.Layout = parsed.Layout with { BinDir = value };
                    break;
                case "--flannel-cni-conf":
                    parsed.Layout = parsed.Layout with { FlannelCniConf = value };
                    break;
                case "--network":
                    parsed.Layout = parsed.Layout with { Network = value };
                    break;
            }
        }

        foreach (var path in new[] { parsed.Layout.ConfDir, parsed.Layout.BinDir, parsed.Layout.FlannelCniConf })
        {
            if (path is not null && !path.StartsWith('/'))
            {
                return (parsed, $"{command}: host paths are absolute (as seen on the host, --root is prefixed): \"{path}\"");
            }
        }

        return (parsed, null);
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
