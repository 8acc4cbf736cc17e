using Fwmark.Core.Agent;

namespace Fwmark.Linux.Agent;

/// <summary>Settings of the kernel-repair loop; the defaults are what `fwmark agent` runs with.</summary>
public sealed record AgentOptions
{
    /// <summary>The conflists, re-read at every routing repair (path, JSON text), in libcni's order.</summary>
    public required Func<IReadOnlyList<(string Path, string Text)>> Conflists { get; init; }

    /// <summary>Network namespace to work in (tests); null = the current one, as in production.</summary>
    public string? NetnsPath { get; init; }

    /// <summary>The plugin's lock; the agent takes it for every write to the plugin's table.</summary>
    public string LockPath { get; init; } = Session.KernelSession.DefaultLockPath;

    /// <summary>The backstop: a full check of everything even when no notification arrived.</summary>
    public TimeSpan FullReconcileInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>nf_tables bursts (a flush is one batch of messages) arrive within microseconds of each other.</summary>
    public TimeSpan TableQuiet { get; init; } = TimeSpan.FromMilliseconds(2);

    public TimeSpan TableMaxDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>A link coming up brings its addresses and prefix routes a few milliseconds apart.</summary>
    public TimeSpan RoutingQuiet { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan RoutingMaxDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Retries of a routing repair that left the node not matching (VPN not back yet).</summary>
    public TimeSpan RetryFirst { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeSpan RetryMax { get; init; } = TimeSpan.FromSeconds(5);

    public IAttachmentRecordSource Record { get; init; } = NoAttachmentRecord.Instance;

    /// <summary>Where the loop counts its repairs, their reaction times and its errors (the agent's /metrics); null: not counted.</summary>
    public Core.Metrics.AgentMetrics? Metrics { get; init; }
}
