using System.Runtime.CompilerServices;
using Fwmark.Core.Metrics;
using Fwmark.Core.Status;

namespace Fwmark.Cli.Commands;

/// <summary><c>fwmark status</c>: what fwmark marks and routes right now, from the kernel and the records (<see cref="StatusCollector"/>).</summary>
internal sealed class StatusCommand : ICliCommand
{
    private static readonly CliOption Prometheus = new("--prometheus", null, "print Prometheus text format (for node-exporter's textfile collector) instead of text");
    private static readonly CliOption RunDir = new("--run-dir", "DIR", "where the agent writes its heartbeat (default $FWMARK_RUN_DIR, else /run/fwmark)");

    public string Name => "status";

    public string Summary => "every attachment with its packet and byte counters, every mark with its routing, the agent";

    public string Description => """
        Reads, in the current network namespace (nothing is changed, no lock is taken): the plugin's
        table inet fwmark with every element and its per-element counter, the attachment records
        (/run/fwmark/attachments; FWMARK_RUN_DIR moves it), the marks of the fwmark objects in the
        conflists in DIR, and for every mark with a "route" its ip rules, the routes of its table, its
        device and its kill switch; and whether the agent runs (its heartbeat). An attachment is shown
        with its record's pod namespace/name when a record exists; a kernel element without a record,
        and a record whose elements are not in the kernel, are shown as such (state).
        Without --conf-dir, DIR is the conf dir `fwmark install` recorded, else /etc/cni/net.d.

        Exits 0 when everything could be read (what it shows is not judged: `fwmark doctor` does that);
        1 when a source could not be read (nf_tables, the conf dir or a conflist, a record), after
        printing what it could.
        JSON (schema in docs/cli.md, "version": 1): {"version", "time", "confDir", "complete",
        "problems": [...], "agent": {"running", "problem"}, "table": {"present", "counters"},
        "marks": [{"name", "value", "mask", "connmark", "configured", "attachments", "packets", "bytes",
        "routing": null | {"table", "device", "deviceUp", "ipv4"|"ipv6": {"wanted", "rule",
        "defaultRoute", "killSwitch", "routes"}, "problems"}}], "attachments": [{"network",
        "containerId", "ifName", "podNamespace", "podName", "mark": {"name", "value", "mask",
        "connmark"}, "state": "ok"|"partial"|"not-in-kernel"|"no-record", "packets", "bytes",
        "comment", "keys": [{"kind": "ipv4"|"ipv6"|"interface", "key", "inKernel", "inRecord",
        "packets", "bytes"}]}]}
        --prometheus writes the metric families docs/agent.md lists (those known without the agent).
        """;

    public IReadOnlyList<CliOption> Options => [CliOption.ConfDir, CliOption.Json, Prometheus, RunDir];

    public int Run(CliContext context)
    {
        var args = context.Args;
        if (args.Json && args.Has(Prometheus))
        {
            throw new CliUsageException("--json and --prometheus cannot be combined: choose one output");
        }

        var confDir = args.Value(CliOption.ConfDir) ?? InstalledConfDir.Find("/");
        var collector = StatusSources.Collector(context.Services, confDir, args.Value(RunDir));
        var report = collector.Collect(DateTimeOffset.UtcNow);
        if (args.Has(Prometheus))
        {
            var writer = new PrometheusWriter();
            StatusMetrics.Write(writer, report, includeAgentHeartbeat: true);
            context.Out.Write(writer.ToString());
        }
        else
        {
            context.Out.Write(args.Json ? CliJson.Serialize(StatusJson.ToJson(report)) + "\n" : StatusText.Format(report));
        }

        return report.Problems.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

#pragma warning disable CA2255 // The command table is filled by module initializers on purpose: one file per command (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => CommandTable.Register(new StatusCommand());
#pragma warning restore CA2255
}
