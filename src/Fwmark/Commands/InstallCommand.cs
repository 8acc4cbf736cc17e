using System.Runtime.CompilerServices;
using Fwmark.Cli;
using Fwmark.Core.Install;

namespace Fwmark.Commands;

/// <summary><c>fwmark install</c>: the binary into the runtime's bin dir and fwmark into the chain it loads.</summary>
internal sealed class InstallCommand : ICliCommand
{
    public string Name => "install";

    public string Summary => "put the binary and fwmark into the conflist k3s/containerd/podman load";

    public string Description => """
        Copies the plugin binary (this executable, or --binary FILE) into the runtime's CNI bin dir
        (write + rename) and makes the conflist the runtime loads (the lexically first of the conf
        dir) chain fwmark after the main plugin, with the pod-annotations capability and the keys of
        FILE (a JSON object: "marks", "defaultMark", "namespaces", "connmark", ...).

          k3s         conf dir /var/lib/rancher/k3s/agent/etc/cni/net.d, bin dir from k3s's containerd
                      config (/var/lib/rancher/k3s/data/cni). k3s rewrites 10-flannel.conflist at every
                      start, so fwmark writes its own 00-fwmark.conflist derived from it (keep it current
                      with `fwmark agent`). With --flannel-cni-conf FILE (or flannel-cni-conf in
                      /etc/rancher/k3s/config.yaml) FILE and its copy 10-flannel.conflist are edited.
          containerd  cni conf_dir / bin_dir(s) of /etc/containerd/config.toml, else /etc/cni/net.d and
                      /opt/cni/bin; the first conflist is edited in place (--own-conflist: derive instead).
          podman      CNI backend: cni_plugin_dirs and network_config_dir of containers.conf; the conflist
                      of --network NAME (else the first) is edited in place.
        Without --layout the layout is detected; more than one runtime under the root is an error.

        Every host path is taken relative to --root (default /): /host in a container with the host
        mounted. The original bytes of each edited file are kept in /var/lib/fwmark/install.json, so
        `fwmark uninstall` restores them exactly. Idempotent: a second run changes nothing.
        --dry-run prints the diff and writes nothing. --check writes nothing either and exits 1 when a
        pod created now would not get fwmark with these keys (the window after a primary's rewrite that
        `fwmark agent` closes), saying what such a pod gets; 0 when all is in place.
        """;

    public IReadOnlyList<CliOption> Options => [InstallArguments.RootOption, InstallArguments.LayoutOption, InstallArguments.ConfigOption, InstallArguments.DryRunOption, InstallArguments.ConfDirOption, InstallArguments.BinDirOption, InstallArguments.FlannelCniConfOption, InstallArguments.NetworkOption, InstallArguments.OwnConflistOption, InstallArguments.BinaryOption, InstallArguments.CheckOption];

    public int Run(CliContext context)
    {
        var (stdout, stderr) = (context.Out, context.Err);
        var arguments = InstallArguments.From(context.Args);

        try
        {
            var installer = new Installer(new HostRoot(arguments.Root));
            var record = installer.ReadRecord();
            var layout = arguments.DetectLayout(installer.Root, record);
            var plugin = arguments.Plugin(record);
            if (arguments.Check)
            {
                var problems = InstallStatus.Check(installer, layout, plugin);
                foreach (var line in problems)
                {
                    stdout.WriteLine($"fwmark install --check: {line}");
                }

                return problems.Count == 0 ? 0 : 1;
            }

            var binary = ReadBinary(arguments.BinaryFile ?? Environment.ProcessPath);
            stdout.WriteLine($"fwmark install: {layout.Describe()}");
            var plan = installer.PlanInstall(layout, plugin, binary);
            return Report(installer, plan, arguments.DryRun, "install", stdout);
        }
        catch (InstallException e)
        {
            stderr.WriteLine($"fwmark install: {e.Message}");
            return 1;
        }
    }

    /// <summary>Prints the plan (as a diff with --dry-run) and applies it unless dry.</summary>
    public static int Report(Installer installer, InstallPlan plan, bool dryRun, string verb, TextWriter stdout)
    {
        foreach (var note in plan.Notes)
        {
            stdout.WriteLine($"fwmark {verb}: {note}");
        }

        if (plan.IsEmpty)
        {
            if (!dryRun && (plan.Record is not null || plan.RemoveRecord))
            {
                installer.Apply(plan);
            }

            stdout.WriteLine($"fwmark {verb}: nothing to change");
            return 0;
        }

        if (dryRun)
        {
            stdout.Write(plan.Diff());
            stdout.WriteLine($"fwmark {verb}: dry run, {plan.Changes.Count} file(s) would change");
            return 0;
        }

        installer.Apply(plan);
        foreach (var change in plan.Changes)
        {
            stdout.WriteLine($"fwmark {verb}: {(change.After is null ? "removed" : "wrote")} {change.HostPath} ({change.Why})");
        }

        return 0;
    }

    private static byte[] ReadBinary(string? path)
    {
        if (path is null)
        {
            throw new InstallException("failed to read the plugin binary: the path of this executable is unknown (say --binary FILE)");
        }

        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InstallException($"failed to read the plugin binary {path}: {e.Message}", e);
        }
    }
#pragma warning disable CA2255 // The command table is filled by module initializers on purpose: one file per command (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => CommandTable.Register(new InstallCommand());
#pragma warning restore CA2255
}
