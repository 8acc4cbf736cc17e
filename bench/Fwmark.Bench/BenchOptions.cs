namespace Fwmark.Bench;

/// <summary>What one benchmark run measures; parsed from the command line by <see cref="BenchOptionsParser"/>.</summary>
internal sealed record BenchOptions
{
    /// <summary>Path of the published <c>fwmark</c> binary. Required.</summary>
    public required string Plugin { get; init; }

    /// <summary>Path of the published Native AOT hello-world (the exec floor). Required.</summary>
    public required string Hello { get; init; }

    /// <summary>Existing attachments to measure at, ascending and distinct. Default 0, 1000, 10000.</summary>
    public IReadOnlyList<int> Counts { get; init; } = [0, 1000, 10000];

    /// <summary>Kept samples per operation per count. Default 300, at least 1.</summary>
    public int Iterations { get; init; } = 300;

    /// <summary>Iterations run before the kept ones at each count; their samples are dropped. Default 5.</summary>
    public int Warmup { get; init; } = 5;

    /// <summary>Concurrent plugin ADDs while populating (the real binary either way). Default 1, like one kubelet.</summary>
    public int PopulateJobs { get; init; } = 1;

    /// <summary>Value of <c>CNI_NETNS</c> and of the prevResult sandbox. The plugin must not need to enter it.</summary>
    public string CniNetns { get; init; } = "/var/run/netns/fwmark-bench-pod";

    /// <summary>
    /// When set, the "vpn" mark gets a <c>route</c> through this device (table 2184, gateway 192.0.2.1), so
    /// every ADD also ensures the node's policy routing. run.sh creates such a device ("vpn0"). Default none.
    /// </summary>
    public string? RouteDevice { get; init; }

    /// <summary>
    /// True (<c>--path bridge</c>): every pod has a real veth pair in the bench's netns, its host end a port of a
    /// bridge (at most 1000 per bridge), and prevResult names both, as the bridge plugin's does: the plugin takes the
    /// bridge-port path. False (<c>--path address</c>, the default): prevResult names only the pod's side.
    /// </summary>
    public bool BridgePorts { get; init; }

    /// <summary>When set, the plugin config gets <c>"logFile"</c> with this path: measures the cost of the per-invocation log line. Default none.</summary>
    public string? LogFile { get; init; }

    /// <summary>When set, the results are also written here as JSON.</summary>
    public string? Out { get; init; }

    /// <summary>Agent mode (<see cref="AgentBench"/>) when &gt; 0: how many flushes to time at each N.</summary>
    public int AgentFlushes { get; init; }

    /// <summary>Agent mode: how many VPN delete/re-create cycles to time (needs --route-device).</summary>
    public int AgentVpnCycles { get; init; }
}
