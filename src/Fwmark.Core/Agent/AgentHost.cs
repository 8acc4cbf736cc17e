namespace Fwmark.Core.Agent;

/// <summary>
/// Runs the agent's loops side by side until <c>stop</c> (SIGTERM/SIGINT in the CLI) or until one loop fails.
/// Exit code: 0 after a requested stop, 1 when a loop failed (its exception is logged and the others are stopped,
/// so a systemd unit or a DaemonSet restarts the whole agent rather than running it half).
/// </summary>
public sealed class AgentHost(IReadOnlyList<IAgentLoop> loops, TextWriter log)
{
    public async Task<int> RunAsync(CancellationToken stop)
    {
        using var all = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var failed = 0;
        var tasks = loops.Select(async loop =>
        {
            try
            {
                await loop.RunAsync(all.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (all.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                Interlocked.Exchange(ref failed, 1);
                Log($"{loop.Name}: failed: {e.Message}");
                await all.CancelAsync().ConfigureAwait(false);
            }
        }).ToList();

        Log($"started: {string.Join(", ", loops.Select(l => l.Name))}");
        await Task.WhenAll(tasks).ConfigureAwait(false);
        Log(failed == 0 ? "stopped" : "stopped after a failure");
        return failed;
    }

    private void Log(string line)
    {
        lock (log)
        {
            log.WriteLine($"fwmark agent: {line}");
            log.Flush();
        }
    }
}
