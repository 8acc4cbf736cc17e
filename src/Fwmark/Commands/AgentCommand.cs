using System.Runtime.InteropServices;
using Fwmark.Core.Agent;
using Fwmark.Core.Install;

namespace Fwmark.Commands;

/// <summary><c>fwmark agent</c>: the node agent in the foreground, hosting its loops until SIGTERM/SIGINT.</summary>
internal static class AgentCommand
{
    public const string Usage = """
        fwmark agent [--root DIR] [--layout k3s|containerd|podman] [--conf-dir DIR] [--config FILE]
                     [--flannel-cni-conf FILE] [--network NAME] [--own-conflist]

        Runs in the foreground (systemd unit, DaemonSet) until SIGTERM or SIGINT, then exits 0.
        conflist-keeper: watches the CNI conf dir and, within 2 s of the primary CNI rewriting,
        renaming or deleting its conflist, re-derives fwmark's conflist (or re-inserts fwmark into
        the primary's), logging each repair. The layout and the plugin keys default to what the last
        `fwmark install` recorded under --root; --config FILE overrides the keys.
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var (arguments, problem) = InstallArguments.Parse("agent", args, "--root", "--layout", "--conf-dir", "--config", "--flannel-cni-conf", "--network", "--own-conflist");
        if (arguments.Help)
        {
            stdout.WriteLine(Usage);
            return 0;
        }

        if (problem is not null)
        {
            stderr.WriteLine($"fwmark: {problem} (try fwmark agent --help)");
            return 2;
        }

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
}
