using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Fwmark.Cli;
using Fwmark.Core.Agent;
using Fwmark.Core.Install;

namespace Fwmark.Commands;

/// <summary><c>fwmark agent</c>: the node agent in the foreground, hosting its loops until SIGTERM/SIGINT.</summary>
internal sealed class AgentCommand : ICliCommand
{
    public string Name => "agent";

    public string Summary => "the node agent (foreground): keeps fwmark in the loaded conflist";

    public string Description => """
        Runs in the foreground (systemd unit, DaemonSet) until SIGTERM or SIGINT, then exits 0.
        conflist-keeper: watches the CNI conf dir and, within 2 s of the primary CNI rewriting,
        renaming or deleting its conflist, re-derives fwmark's conflist (or re-inserts fwmark into
        the primary's), logging each repair. The layout and the plugin keys default to what the last
        `fwmark install` recorded under --root; --config FILE overrides the keys.
        """;

    public IReadOnlyList<CliOption> Options => [InstallArguments.RootOption, InstallArguments.LayoutOption, InstallArguments.ConfDirOption, InstallArguments.ConfigOption, InstallArguments.FlannelCniConfOption, InstallArguments.NetworkOption, InstallArguments.OwnConflistOption];

    public int Run(CliContext context)
    {
        var (stdout, stderr) = (context.Out, context.Err);
        var arguments = InstallArguments.From(context.Args);

        List<IAgentLoop> loops;
        try
        {
            var installer = new Installer(new HostRoot(arguments.Root));
            var record = installer.ReadRecord();
            var layout = arguments.DetectLayout(installer.Root, record);
            loops = [new ConflistKeeper(installer, layout, arguments.Plugin(record), stderr)];
        }
        catch (InstallException e)
        {
            stderr.WriteLine($"fwmark agent: {e.Message}");
            return 1;
        }

        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        return new AgentHost(loops, stderr).RunAsync(stop.Token).GetAwaiter().GetResult();
    }
#pragma warning disable CA2255 // The command table is filled by module initializers on purpose: one file per command (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => CommandTable.Register(new AgentCommand());
#pragma warning restore CA2255
}
