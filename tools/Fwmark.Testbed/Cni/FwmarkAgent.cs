using System.Diagnostics;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Testbed.Cni;

/// <summary>
/// <c>fwmark agent --conf-dir DIR</c> running in the background in a namespace this run created, the
/// way a systemd unit runs it: the published binary, exec'd by <c>ip netns exec</c> (which execs it, so
/// the PID is the agent's own). Stopped by SIGTERM to that PID; killed by PID on dispose if still alive.
/// </summary>
public sealed class FwmarkAgent : IDisposable
{
    public const string ReadyLine = "fwmark agent: running";

    private FwmarkAgent(BackgroundProcess process) => Process = process;

    public BackgroundProcess Process { get; }

    public string Output => Process.Output;

    /// <summary>Starts the agent and waits until it says it is running (its guard table exists by then).</summary>
    public static FwmarkAgent Start(Netns node, string binary, string confDir, params string[] extraArgs)
    {
        var process = node.Start(new CommandSpec(binary, ["agent", "--conf-dir", confDir, .. extraArgs]) { DropInheritedPrefixes = ["CNI_"] });
        var agent = new FwmarkAgent(process);
        var clock = Stopwatch.StartNew();
        while (!agent.Output.Contains(ReadyLine, StringComparison.Ordinal))
        {
            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                var output = agent.Output;
                agent.Dispose();
                throw new TestbedException($"fwmark agent did not start (exited: {process.HasExited}):\n{output}");
            }

            Thread.Sleep(10);
        }

        return agent;
    }

    /// <summary>SIGTERM; returns the exit code, or null when it did not exit within <paramref name="timeout"/>.</summary>
    public int? Terminate(TimeSpan timeout) => Process.Terminate(timeout) ? Process.ExitCode : null;

    public void Dispose() => Process.Dispose();
}
