using System.Runtime.CompilerServices;
using Fwmark.Cli.Doctor;
using Fwmark.Core.Operator;

namespace Fwmark.Cli.Commands;

/// <summary><c>fwmark doctor</c>: runs every check of <see cref="DoctorChecks"/> against the conf dir and the node.</summary>
internal sealed class DoctorCommand : ICliCommand
{
    private static readonly CliOption BinDir = new("--bin-dir", "DIR", $"where the runtime looks for the plugin binary (default {DoctorContext.DefaultBinDir})");
    private static readonly CliOption RunDir = new("--run-dir", "DIR", $"where the agent writes its heartbeat (default {AgentHeartbeat.DefaultRunDir})");
    private static readonly CliOption CiliumStateDir = new("--cilium-state-dir", "DIR", $"Cilium's state dir, for its datapath config (default {DoctorContext.DefaultCiliumStateDir})");

    public string Name => "doctor";

    public string Summary => "check the node and the conflists; say what is wrong and how to fix it";

    public string Description => """
        Reads the conflists in DIR and the node's kernel state (current network namespace; nothing is
        changed) and runs every check: nf_tables usable, conflists valid, the conflist the runtime
        loads has fwmark after the main plugin with the pod-annotations capability, the plugin binary
        installed, every mark steered by an ip rule into a table that has routes and fails closed,
        mark bits free of other node software's, rp_filter compatible, Cilium not routing in eBPF, the
        agent running. Each problem comes with what it means and the command that fixes it
        (docs/troubleshooting.md has a section per check id).

        Exits 0 only when every check is ok or does not apply; 1 when a problem was found.
        JSON: {"healthy": bool, "confDir": DIR, "problems": N, "checks": [{"id", "title",
        "status": "ok"|"skipped"|"problem"|"error", "note", "meaning", "fix",
        "findings": [{"problem", "fix"}]}]}
        """;

    public IReadOnlyList<CliOption> Options => [CliOption.ConfDir, CliOption.Json, BinDir, RunDir, CiliumStateDir];

    public int Run(CliContext context)
    {
        var args = context.Args;
        var doctor = new DoctorContext(args.ConfDir, context.Services.Node, context.Services.Routing, DateTime.UtcNow)
        {
            BinDir = args.Value(BinDir, DoctorContext.DefaultBinDir),
            RunDir = args.Value(RunDir, AgentHeartbeat.DefaultRunDir),
            CiliumStateDir = args.Value(CiliumStateDir, DoctorContext.DefaultCiliumStateDir),
        };
        var report = DoctorReport.Run(doctor);
        context.Out.WriteLine(args.Json ? CliJson.Serialize(report.ToJson()) : report.ToText());
        return report.Healthy ? ExitCodes.Ok : ExitCodes.Failed;
    }

#pragma warning disable CA2255 // The command table is filled by module initializers on purpose: one file per command (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => CommandTable.Register(new DoctorCommand());
#pragma warning restore CA2255
}
