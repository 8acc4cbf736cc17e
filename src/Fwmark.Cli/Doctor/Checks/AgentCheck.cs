using System.Runtime.CompilerServices;
using Fwmark.Core.Operator;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>The agent keeps the guarantees when other software flushes the ruleset or routes; see <see cref="AgentHeartbeat"/>.</summary>
internal sealed class AgentCheck : IDoctorCheck
{
    public string Id => "agent-not-running";

    public int Order => 90;

    public string Title => "the fwmark agent is running";

    public string Meaning => "Without the agent nothing repairs the node between pod events: after an nft flush ruleset, a firewall reload or a VPN that comes back, marks, rules or routes stay missing until the next ADD or fwmark reconcile.";

    public string Fix => "Start the agent (fwmark agent, from its systemd unit or DaemonSet); it writes RUN_DIR/agent.heartbeat. Pass --run-dir when it uses another run dir.";

    public CheckResult Run(DoctorContext context) =>
        AgentHeartbeat.Problem(context.RunDir, context.NowUtc) is { } problem
            ? CheckResult.Of([new DoctorFinding(problem, "systemctl start fwmark-agent (or run fwmark agent)")])
            : CheckResult.Ok(AgentHeartbeat.PathIn(context.RunDir));

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new AgentCheck());
#pragma warning restore CA2255
}
