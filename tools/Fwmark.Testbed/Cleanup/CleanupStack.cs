namespace Fwmark.Testbed.Cleanup;

/// <summary>
/// Undo actions for everything a testbed created, run last-in first-out. Finalizers cannot be trusted to
/// remove kernel objects, so each creation registers its undo here at once, before anything can fail.
/// Every live stack is also emptied on process exit and by <see cref="DisposeAll"/> (the demo's Ctrl-C).
/// </summary>
public sealed class CleanupStack : IDisposable
{
    private static readonly List<CleanupStack> Live = [];
    private readonly List<(string What, Action Undo)> _actions = [];
    private readonly List<string> _failures = [];
    private bool _disposed;

    static CleanupStack()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DisposeAll();
    }

    public CleanupStack()
    {
        lock (Live)
        {
            Live.Add(this);
        }
    }

    /// <summary>Problems met while cleaning up ("what: why"); empty when everything was removed.</summary>
    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_actions)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>Registers how to undo something that now exists.</summary>
    public void Push(string what, Action undo)
    {
        lock (_actions)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _actions.Add((what, undo));
        }
    }

    /// <summary>Cleans up every stack still alive in this process (signal handlers, process exit).</summary>
    public static void DisposeAll()
    {
        CleanupStack[] live;
        lock (Live)
        {
            live = [.. Live];
        }

        foreach (var stack in live)
        {
            stack.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_actions)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            for (var i = _actions.Count - 1; i >= 0; i--)
            {
                var (what, undo) = _actions[i];
                try
                {
                    undo();
                }
                catch (Exception ex)
                {
                    // Keep going: one stuck object must not leave the others behind.
                    _failures.Add($"{what}: {ex.Message}");
                    Console.Error.WriteLine($"fwmark testbed: failed to clean up {what}: {ex.Message}");
                }
            }

            _actions.Clear();
        }

        lock (Live)
        {
            Live.Remove(this);
        }
    }
}
