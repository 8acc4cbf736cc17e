using System.Runtime.CompilerServices;
using Fwmark.Cli;
using Fwmark.Core;
using Fwmark.Core.Install;
using Fwmark.Linux.Install;

namespace Fwmark.Commands;

/// <summary><c>fwmark uninstall</c>: undoes what the install record says install did.</summary>
internal sealed class UninstallCommand : ICliCommand
{
    public string Name => "uninstall";

    public string Summary => "restore the runtime's files as they were before install";

    public string Description => """
        Puts back every conflist install edited, byte for byte as it was (a file the primary rewrote
        since is only cleaned of the fwmark element), removes fwmark's own conflist and the binary,
        then the record /var/lib/fwmark/install.json. Run `fwmark agent` no more before this, or it
        installs again. --dry-run prints the diff and writes nothing.

        --remove-kernel-state also deletes, in the current network namespace, the nftables table
        inet fwmark and every ip rule and route with proto 243: marked pods lose their mark and the
        fail-closed route at once. Without it the kernel state stays until the node reboots.
        """;

    public IReadOnlyList<CliOption> Options => [InstallArguments.RootOption, InstallArguments.DryRunOption, InstallArguments.RemoveKernelStateOption];

    public int Run(CliContext context)
    {
        var (stdout, stderr) = (context.Out, context.Err);
        var arguments = InstallArguments.From(context.Args);

        try
        {
            var installer = new Installer(new HostRoot(arguments.Root));
            var exit = InstallCommand.Report(installer, installer.PlanUninstall(), arguments.DryRun, "uninstall", stdout);
            if (arguments.RemoveKernelState)
            {
                if (arguments.DryRun)
                {
                    stdout.WriteLine("fwmark uninstall: would delete table inet fwmark and the rules and routes with proto 243");
                }
                else
                {
                    foreach (var line in KernelStateRemover.Remove(lockPath: StatePaths.LockPath))
                    {
                        stdout.WriteLine($"fwmark uninstall: {line}");
                    }
                }
            }

            return exit;
        }
        catch (InstallException e)
        {
            stderr.WriteLine($"fwmark uninstall: {e.Message}");
            return 1;
        }
        catch (DataplaneException e)
        {
            stderr.WriteLine($"fwmark uninstall: {e.Message}" + (e.Details is { Length: > 0 } d ? $"\n  {d}" : ""));
            return 1;
        }
    }
#pragma warning disable CA2255 // The command table is filled by module initializers on purpose: one file per command (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => CommandTable.Register(new UninstallCommand());
#pragma warning restore CA2255
}
