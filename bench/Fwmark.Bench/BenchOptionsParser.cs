using System.Globalization;

namespace Fwmark.Bench;

/// <summary>Turns <c>--name value</c> pairs into <see cref="BenchOptions"/>, reporting every problem at once.</summary>
internal static class BenchOptionsParser
{
    public const string Usage = """
        usage: Fwmark.Bench --plugin PATH --hello PATH [--counts 0,1000,10000] [--iterations 300]
                            [--warmup 5] [--populate-jobs 1] [--cni-netns PATH] [--route-device DEV] [--path address|bridge]
                            [--log-file PATH]
                            [--out results.json] [--agent-flushes 50 [--agent-vpn-cycles 20]]
        With --agent-flushes: runs `PLUGIN agent` and times its reaction to flushes and VPN returns instead.
        Must run inside a network namespace that is not the host's (see bench/run.sh).
        """;

    public static BenchOptions Parse(IReadOnlyList<string> args, out IReadOnlyList<string> errors)
    {
        var problems = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
            {
                problems.Add($"unexpected argument '{name}'");
                continue;
            }

            values[name[2..]] = args[++i];
        }

        string Text(string key, string fallback) => values.Remove(key, out var v) ? v : fallback;

        int Number(string key, int fallback, int min)
        {
            if (!values.Remove(key, out var text))
                return fallback;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min)
                return n;
            problems.Add($"--{key} must be an integer >= {min}, got '{text}'");
            return fallback;
        }

        var plugin = Text("plugin", "");
        var hello = Text("hello", "");
        if (plugin.Length == 0)
            problems.Add("--plugin is required");
        if (hello.Length == 0)
            problems.Add("--hello is required");

        var counts = ParseCounts(Text("counts", "0,1000,10000"), problems);
        var path = Text("path", "address");
        if (path is not ("address" or "bridge"))
            problems.Add($"--path must be address or bridge, not '{path}'");
        var options = new BenchOptions
        {
            Plugin = plugin,
            Hello = hello,
            Counts = counts,
            Iterations = Number("iterations", 300, 1),
            Warmup = Number("warmup", 5, 0),
            PopulateJobs = Number("populate-jobs", 1, 1),
            // On the bridge path the plugin reads the pod's veth end in CNI_NETNS: the bench's own netns holds both ends.
            CniNetns = Text("cni-netns", path == "bridge" ? "/proc/self/ns/net" : "/var/run/netns/fwmark-bench-pod"),
            BridgePorts = path == "bridge",
            RouteDevice = values.Remove("route-device", out var device) ? device : null,
            LogFile = values.Remove("log-file", out var logFile) ? logFile : null,
            Out = values.Remove("out", out var outPath) ? outPath : null,
            AgentFlushes = Number("agent-flushes", 0, 0),
            AgentVpnCycles = Number("agent-vpn-cycles", 0, 0),
        };
        if (options.AgentVpnCycles > 0 && options.RouteDevice is null)
            problems.Add("--agent-vpn-cycles needs --route-device (the VPN device to delete and re-create)");

        foreach (var unknown in values.Keys)
            problems.Add($"unknown option --{unknown}");
        if (options.Counts.Count > 0 && options.Counts[^1] >= FakePod.MeasuredIndexBase)
            problems.Add($"--counts must stay below {FakePod.MeasuredIndexBase}");

        errors = problems;
        return options;
    }

    private static int[] ParseCounts(string text, List<string> problems)
    {
        var counts = new SortedSet<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                counts.Add(n);
            else
                problems.Add($"--counts holds '{part}', which is not a non-negative integer");
        }

        if (counts.Count == 0)
            problems.Add("--counts needs at least one value");
        return [.. counts];
    }
}
