using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Fwmark.Cli;
using Fwmark.Core;
using Fwmark.Core.Agent;
using Fwmark.Core.Install;
using Fwmark.Core.Metrics;
using Fwmark.Core.Operator;
using Fwmark.Linux.Agent;
using Fwmark.Linux.Metrics;

namespace Fwmark.Commands;

/// <summary>
/// <c>fwmark agent</c>: the node agent in the foreground, hosting its loops (<see cref="AgentHost"/>) until
/// SIGTERM/SIGINT: the kernel-repair loop always, the conflist keeper when fwmark was installed (an install record
/// under --root) or --config names the plugin's keys, and the heartbeat doctor reads.
/// </summary>
internal sealed class AgentCommand : ICliCommand
{
    private static readonly CliOption Interval = new("--interval", "SECONDS", "the backstop full check's period (default 30)");

    private static readonly CliOption MetricsAddress = new("--metrics-address", "ADDR:PORT",
        $"where /metrics (Prometheus text) is served (default {MetricsServer.DefaultAddress}; \"\" or off disables)");

    public string Name => "agent";

    public string Summary => "the node agent (foreground): repairs the kernel state and keeps fwmark in the loaded conflist";

    public string Description => """
        Runs in the foreground (a systemd unit or a DaemonSet container runs it) until SIGTERM or
        SIGINT (exit 0); exit 1 when it cannot start (another agent guards this network namespace, a
        conf dir that does not exist, no nf_tables). Its loops:
          kernel-repair    keeps, in the current network namespace, what the plugin made whole while the
                           node changes under it: an owned guard table (inet fwmark-guard) with the same
                           marking, which `nft flush ruleset` and `nft delete table` cannot remove; on
                           nf_tables notifications the plugin's table and every element it held restored
                           within milliseconds; on link, rule and route notifications the policy routing of
                           every mark with "route" in the conf dir's conflists, as `fwmark reconcile` makes
                           it; every SECONDS a full check as a backstop.
          conflist-keeper  when `fwmark install` ran under --root (or --config FILE gives the plugin's
                           keys): within 2 s of the primary CNI rewriting, renaming or deleting its
                           conflist, re-derives fwmark's conflist (or re-inserts fwmark into the primary's).
          heartbeat        writes $FWMARK_RUN_DIR/agent.heartbeat (default /run/fwmark) every 10 s, which
                           `fwmark doctor` reads to tell that the agent runs.
          metrics          serves GET /metrics on ADDR:PORT (default 127.0.0.1:9573, loopback only):
                           per-attachment and per-mark packets/bytes from the kernel's per-element
                           counters, routing state, repairs by kind with their reaction time, errors and
                           the agent's health (families in docs/agent.md). --metrics-address off disables it.
        The conf dir is --conf-dir, else the one `fwmark install` recorded, else /etc/cni/net.d.
        """;

    public IReadOnlyList<CliOption> Options =>
    [
        InstallArguments.RootOption, InstallArguments.ConfDirOption, Interval, InstallArguments.LayoutOption,
        InstallArguments.ConfigOption, InstallArguments.FlannelCniConfOption, InstallArguments.NetworkOption,
        InstallArguments.OwnConflistOption, MetricsAddress,
    ];

    public int Run(CliContext context)
    {
        var (stdout, stderr) = (context.Out, context.Err);
        var arguments = InstallArguments.From(context.Args);
        var interval = ParseInterval(context.Args.Value(Interval));
        IPEndPoint? metricsAt;
        try
        {
            metricsAt = MetricsServer.ParseAddress(context.Args.Value(MetricsAddress) ?? MetricsServer.DefaultAddress);
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"--metrics-address: {e.Message}");
        }

        var metrics = new AgentMetrics(DateTimeOffset.UtcNow);
        var loops = new List<IAgentLoop>();
        string confDir;
        try
        {
            var installer = new Installer(new HostRoot(arguments.Root));
            var record = installer.ReadRecord();
            confDir = arguments.Layout.ConfDir is { } given ? installer.Root.Resolve(given) : InstalledConfDir.Find(arguments.Root);
            // Only a node fwmark was installed on (or an explicit --config) gets its conflists edited: an agent
            // started for repair alone must never detect and rewrite a runtime's files on its own.
            if (record is not null || arguments.ConfigFile is not null)
            {
                var layout = arguments.DetectLayout(installer.Root, record);
                confDir = installer.Root.Resolve(layout.ConfDir);
                loops.Add(new ConflistKeeper(installer, layout, arguments.Plugin(record), stderr));
            }
        }
        catch (InstallException e)
        {
            stderr.WriteLine($"fwmark agent: {e.Message}");
            return ExitCodes.Failed;
        }

        if (!Directory.Exists(confDir))
        {
            stderr.WriteLine($"fwmark agent: failed to read conf dir {confDir}: no such directory");
            return ExitCodes.Failed;
        }

        KernelRepairLoop repair;
        try
        {
            repair = KernelRepairLoop.Start(new AgentOptions
            {
                Conflists = () => ReadConflists(confDir),
                FullReconcileInterval = interval,
                Metrics = metrics,
                // The same lock as the plugin (FWMARK_RUN_DIR moves it).
                LockPath = StatePaths.LockPath,
                // What ADD recorded (docs/records.md): restores what the kernel lost while nobody watched.
                Record = new RecordStoreSource(StatePaths.Records()),
            }, stdout);
        }
        catch (DataplaneException e)
        {
            stderr.WriteLine($"fwmark agent: {e.Message}" + (e.Details is { Length: > 0 } d ? $"\n  {d}" : ""));
            return ExitCodes.Failed;
        }

        MetricsServer? server = null;
        if (metricsAt is not null)
        {
            try
            {
                var drops = new KillSwitchCounter();
                server = MetricsServer.Start(metricsAt, () => RenderMetrics(context.Services, confDir, metrics, drops, stderr), stderr, drops);
            }
            catch (SocketException e)
            {
                repair.Dispose();
                stderr.WriteLine($"fwmark agent: failed to serve metrics on {metricsAt}: {e.Message} (--metrics-address ADDR:PORT moves it, off disables it)");
                return ExitCodes.Failed;
            }
        }

        using (repair)
        using (server)
        {
            loops.Insert(0, new RepairLoop(repair));
            loops.Add(new HeartbeatLoop(StatePaths.Root));
            if (server is not null)
            {
                loops.Add(server);
            }

            using var stop = new CancellationTokenSource();
            void Stop(PosixSignalContext signal)
            {
                signal.Cancel = true; // we exit on our own, cleanly, with the guard table removed
                stop.Cancel();
            }

            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            var served = server is null ? "metrics off" : $"metrics on http://{server.Endpoint}/metrics";
            stdout.WriteLine($"fwmark agent: running (conf dir {confDir}, full check every {interval.TotalSeconds:0.#} s, {served}); SIGTERM stops it");
            stdout.Flush();
            var exit = new AgentHost(loops, stderr).RunAsync(stop.Token).GetAwaiter().GetResult();
            stdout.WriteLine("fwmark agent: stopped; guard table removed");
            return exit;
        }
    }

    /// <summary>One scrape: the agent's own families, the kill-switch drops, then what status knows, read from the kernel now.</summary>
    private static string RenderMetrics(IFwmarkServices services, string confDir, AgentMetrics metrics, KillSwitchCounter drops, TextWriter log)
    {
        var report = StatusSources.Collector(services, confDir).Collect(DateTimeOffset.UtcNow);
        var writer = new PrometheusWriter();
        metrics.Write(writer);
        writer.Family("fwmark_killswitch_dropped_packets_total", "counter",
            "Packets entering the node with the mark, to a unicast destination not local to the node, for which a FIB lookup with the mark (after DNAT and the filter hooks) finds no route: dropped by the kill switch (or no route at all). Counted by the agent's table inet fwmark-metrics, from its first scrape.");
        try
        {
            var counts = drops.Read([.. report.Marks.Where(m => m.Configured).Select(m => m.Mark)]);
            foreach (var mark in report.Marks.Where(m => m.Configured))
            {
                foreach (var family in new[] { "ipv4", "ipv6" })
                {
                    writer.Sample("fwmark_killswitch_dropped_packets_total", counts.GetValueOrDefault((mark.Mark.Value, mark.Mark.Mask, family)),
                        ("mark", mark.Label), ("value", $"0x{mark.Mark.Value:x}"), ("mask", $"0x{mark.Mark.Mask:x}"), ("family", family));
                }
            }
        }
        catch (DataplaneException e)
        {
            metrics.Failed("count kill-switch drops");
            log.WriteLine($"fwmark agent: metrics: {e.Message}");
        }

        StatusMetrics.Write(writer, report, includeAgentHeartbeat: false);
        return writer.ToString();
    }

    private static TimeSpan ParseInterval(string? text)
    {
        if (text is null)
        {
            return TimeSpan.FromSeconds(30);
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 0.1 and <= 86400
            ? TimeSpan.FromSeconds(seconds)
            : throw new CliUsageException($"--interval must be a number of seconds from 0.1 to 86400, not \"{text}\"");
    }

    /// <summary>Readable conflists in libcni's order; an unreadable one is skipped here and reported by doctor.</summary>
    private static IReadOnlyList<(string Path, string Text)> ReadConflists(string dir) =>
        [.. ConfDir.Read(dir).Files.Where(f => f.Text is not null).Select(f => (f.Path, f.Text!))];

    /// <summary>The kernel-repair loop on a thread of its own: it blocks in poll(2) on its netlink sockets.</summary>
    private sealed class RepairLoop(KernelRepairLoop loop) : IAgentLoop
    {
        public string Name => "kernel-repair";

        public Task RunAsync(CancellationToken stop) => Task.Factory.StartNew(() => loop.Run(stop), stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The file doctor's agent check reads; a failed write is retried at the next beat, never fatal.</summary>
    private sealed class HeartbeatLoop(string runDir) : IAgentLoop
    {
        public string Name => "heartbeat";

        public async Task RunAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    AgentHeartbeat.Beat(runDir, Environment.ProcessId);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }

                await Task.Delay(AgentHeartbeat.Interval, stop).ConfigureAwait(false);
            }
        }
    }

#pragma warning disable CA2255 // The command table is filled by module initializers on purpose: one file per command (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => CommandTable.Register(new AgentCommand());
#pragma warning restore CA2255
}
