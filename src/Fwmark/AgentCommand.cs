using System.Globalization;
using System.Runtime.InteropServices;
using Fwmark.Core;
using Fwmark.Linux.Agent;

namespace Fwmark;

/// <summary>
/// <c>fwmark agent</c>: runs the kernel-repair loop (<see cref="KernelRepairLoop"/>) in the foreground
/// until SIGTERM or SIGINT, then exits 0; its guard table goes with it. Exit 1 when it cannot start.
/// </summary>
internal static class AgentCommand
{
    private const string Usage = """
        fwmark agent [--conf-dir DIR] [--interval SECONDS]

        Runs in the foreground (a systemd unit or a DaemonSet container runs it) and keeps, in the
        current network namespace, what the plugin made whole while the node changes under it:
          - an owned guard table (inet fwmark-guard) with the same marking as the plugin's table,
            which `nft flush ruleset` and `nft delete table` cannot remove: while the agent runs, a
            flush of the plugin's table leaves no marked pod unmarked;
          - on nf_tables notifications: the plugin's table (deleted, dormant, rules rewritten) and
            every element it held, restored within milliseconds;
          - on link, rule and route notifications: the policy routing of every mark with "route" in
            the conflists of DIR (default /etc/cni/net.d), as `fwmark reconcile` makes it, and no
            foreign default route in a mark's table;
          - every SECONDS (default 30) a full check, as a backstop.
        It takes the plugin's lock for its writes. SIGTERM or SIGINT stops it (exit 0).
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var confDir = Cli.DefaultConfDir;
        var interval = TimeSpan.FromSeconds(30);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help":
                    return Cli.Print(stdout, Usage);
                case "--conf-dir" when i + 1 < args.Length:
                    confDir = args[++i];
                    break;
                case "--interval" when i + 1 < args.Length:
                    if (!double.TryParse(args[++i], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds is < 0.1 or > 86400)
                    {
                        return Cli.UsageError(stderr, $"agent: --interval must be a number of seconds from 0.1 to 86400, not \"{args[i]}\"");
                    }

                    interval = TimeSpan.FromSeconds(seconds);
                    break;
                default:
                    return Cli.UsageError(stderr, $"agent: unexpected argument \"{args[i]}\"");
            }
        }

        if (!Directory.Exists(confDir))
        {
            stderr.WriteLine($"fwmark agent: failed to read conf dir {confDir}: no such directory");
            return 1;
        }

        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we exit on our own, cleanly, with the guard table removed
            stop.Cancel();
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        var options = new AgentOptions
        {
            Conflists = () => [.. Cli.ReadConflists(confDir)],
            FullReconcileInterval = interval,
        };
        KernelRepairLoop loop;
        try
        {
            loop = KernelRepairLoop.Start(options, stdout);
        }
        catch (DataplaneException e)
        {
            stderr.WriteLine($"fwmark agent: {e.Message}");
            if (e.Details is { Length: > 0 } details)
            {
                stderr.WriteLine($"  {details}");
            }

            return 1;
        }

        using (loop)
        {
            stdout.WriteLine($"fwmark agent: running (conf dir {confDir}, full check every {interval.TotalSeconds:0.#} s); SIGTERM stops it");
            loop.Run(stop.Token);
        }

        stdout.WriteLine("fwmark agent: stopped; guard table removed");
        return 0;
    }
}
