using System.Diagnostics;
using System.Text.Json.Nodes;
using Fwmark.Core.Agent;

namespace Fwmark.Core.Install;

/// <summary>
/// Keeps fwmark in the chain the runtime loads while the primary CNI rewrites, renames or deletes its conflist:
/// inotify (FileSystemWatcher) on the conf dir (and the dirs of edit targets elsewhere, such as k3s's
/// --flannel-cni-conf file) wakes it, it waits <see cref="Debounce"/> so a write in several syscalls lands whole,
/// and re-runs the installer's plan (without the binary). The plan is idempotent, so the keeper's own writes wake
/// it once more and change nothing. A resync every <see cref="Resync"/> covers lost events (inotify overflow).
///
/// Pods created between the primary's rewrite and the re-derivation: in own-conflist mode (k3s) the runtime still
/// loads fwmark's previous derived conflist, so they are marked, with the primary's previous chain; in edit mode
/// they get the primary's chain without fwmark and start unmarked (their traffic takes the main path) until they
/// are recreated. <see cref="Rederivations"/> counts repairs so that window can be seen in metrics.
/// </summary>
public sealed class ConflistKeeper(Installer installer, CniLayout layout, JsonObject plugin, TextWriter log) : IAgentLoop
{
    private long _rederivations;
    private long _failures;
    private long _lastReactionTicks = -1;
    private readonly SemaphoreSlim _wake = new(0);
    private string? _lastProblem;

    public string Name => "conflist-keeper";

    public TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan Resync { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RetryAfterFailure { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How many times the keeper rewrote a conflist (a metric: each one was a window without fwmark's current config).</summary>
    public long Rederivations => Interlocked.Read(ref _rederivations);

    /// <summary>Attempts that failed (a half-written primary, a missing conf dir); retried.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>From the first file event to the rewrite, for the last rewrite; null before the first.</summary>
    public TimeSpan? LastReaction => Interlocked.Read(ref _lastReactionTicks) is var t and >= 0 ? TimeSpan.FromTicks(t) : null;

    public async Task RunAsync(CancellationToken stop)
    {
        using var watchers = new WatcherSet(WatchedDirs(), () => _wake.Release());
        Log($"watching {string.Join(", ", watchers.Dirs)} ({layout.Describe()})");
        var woken = Stopwatch.StartNew();
        var failing = false;
        while (!stop.IsCancellationRequested)
        {
            watchers.EnsureStarted();
            var wait = failing ? RetryAfterFailure : Resync;
            var byEvent = await _wake.WaitAsync(wait, stop).ConfigureAwait(false);
            woken.Restart();
            if (byEvent)
            {
                await Task.Delay(Debounce, stop).ConfigureAwait(false);
                while (_wake.CurrentCount > 0)
                {
                    await _wake.WaitAsync(stop).ConfigureAwait(false);
                }
            }

            failing = !KeepOnce(woken, byEvent ? "a change in the conf dir" : failing ? "a retry" : "the periodic resync");
        }
    }

    /// <summary>One check-and-repair; false when it failed and should be retried soon.</summary>
    public bool KeepOnce(Stopwatch since, string trigger)
    {
        try
        {
            var plan = installer.PlanInstall(layout, plugin, binary: null);
            if (plan.IsEmpty && plan.Record is null)
            {
                _lastProblem = null;
                return true;
            }

            installer.Apply(plan);
            _lastProblem = null;
            if (!plan.IsEmpty)
            {
                Interlocked.Increment(ref _rederivations);
                Interlocked.Exchange(ref _lastReactionTicks, since.Elapsed.Ticks);
                foreach (var change in plan.Changes)
                {
                    Log($"re-derived {change.HostPath} after {trigger} in {since.Elapsed.TotalMilliseconds:F0} ms ({change.Why}; chain: {(change.After is null ? "removed" : ConflistDeriver.Chain(change.After))})");
                }
            }

            return true;
        }
        catch (InstallException e)
        {
            Interlocked.Increment(ref _failures);
            // Retried every RetryAfterFailure: say it once, not five times a second.
            if (e.Message != _lastProblem)
            {
                Log($"cannot keep the conflist yet: {e.Message}");
            }

            _lastProblem = e.Message;
            return false;
        }
    }

    private List<string> WatchedDirs()
    {
        var dirs = new List<string> { installer.Root.Resolve(layout.ConfDir) };
        foreach (var target in layout.Targets ?? [])
        {
            dirs.Add(Path.GetDirectoryName(installer.Root.Resolve(target))!);
        }

        return dirs.Distinct(StringComparer.Ordinal).ToList();
    }

    private void Log(string line)
    {
        lock (log)
        {
            log.WriteLine($"fwmark agent: conflist-keeper: {line}");
            log.Flush();
        }
    }

    /// <summary>One watcher per dir; a dir that does not exist yet (k3s not started) is watched once it appears.</summary>
    private sealed class WatcherSet(List<string> dirs, Action wake) : IDisposable
    {
        private readonly Dictionary<string, FileSystemWatcher> _watchers = [];

        public IReadOnlyList<string> Dirs => dirs;

        public void EnsureStarted()
        {
            foreach (var dir in dirs.Where(d => !_watchers.ContainsKey(d) && Directory.Exists(d)))
            {
                var watcher = new FileSystemWatcher(dir)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                    IncludeSubdirectories = false,
                    InternalBufferSize = 64 * 1024,
                };
                watcher.Changed += (_, _) => wake();
                watcher.Created += (_, _) => wake();
                watcher.Deleted += (_, _) => wake();
                watcher.Renamed += (_, _) => wake();
                watcher.Error += (_, _) => wake();
                watcher.EnableRaisingEvents = true;
                _watchers[dir] = watcher;
                // Something may have changed before the watch started.
                wake();
            }
        }

        public void Dispose()
        {
            foreach (var watcher in _watchers.Values)
            {
                watcher.Dispose();
            }
        }
    }
}
