using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Processes;

namespace Fwmark.Bench;

/// <summary>
/// Agent mode: with N attachments made by the plugin and <c>PLUGIN agent</c> running, times (1) the agent's
/// reaction to <c>nft flush ruleset</c>: from the kernel's "table fwmark deleted" notification to its "table
/// fwmark created" notification of the agent's restore (one transaction: the table, its chains and all N
/// elements appear together; the object count is checked after every restore), and (2) VPN recovery: from
/// the re-created VPN device coming up to the agent's default route through it in the mark's table. Both
/// ends of each interval are notifications read by this process on one socket, so the numbers do not
/// include the exec time of nft or ip.
/// </summary>
internal sealed class AgentBench(BenchOptions options, TextWriter progress)
{
    private const uint Table = 2184;
    private const byte FwmarkProtocol = 243;
    private const uint IffUp = 1;
    private const byte RouteUnicast = 1;

    private readonly CniCall _plugin = new(options.Plugin, options.CniNetns, options.RouteDevice, options.LogFile);

    // bench/run.sh starts the benchmark inside the namespace it programs (Program checked it is not the initial one).
    private readonly Netns _node = Netns.Current();

    public string Run()
    {
        var report = new StringBuilder();
        report.AppendLine("| N | flush → restored p50 | p90 | p99 | max | VPN up → route p50 | p90 | p99 | max |");
        report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var confDir = Directory.CreateTempSubdirectory("fwmark-bench-agent-");
        try
        {
            File.WriteAllText(Path.Combine(confDir.FullName, "bench.conflist"), Conflist());
            var populated = 0;
            foreach (var n in options.Counts)
            {
                for (; populated < n; populated++)
                {
                    var pod = FakePod.Create(populated);
                    _plugin.Run(CniVerb.Add, pod, _plugin.MainPluginResult(pod));
                }

                progress.WriteLine($"agent bench: N={n} populated");
                using var agent = FwmarkAgent.Start(_node, options.Plugin, confDir.FullName, "--interval", "3600");
                try
                {
                    var flushes = MeasureFlushes(n);
                    var vpn = options.AgentVpnCycles > 0 ? MeasureVpnRecovery() : [];
                    report.AppendLine(CultureInfo.InvariantCulture, $"| {n} | {Row(flushes)} | {(vpn.Count > 0 ? Row(vpn) : "– | – | – | –")} |");
                    progress.WriteLine($"agent bench: N={n}: {flushes.Count} flushes ({PartialRestores} restored in more than one step), {vpn.Count} VPN cycles");
                    if (PartialRestores > 0)
                    {
                        progress.WriteLine(agent.Output);
                    }

                    PartialRestores = 0;
                    // The agent's own view: from its decision to repair to the end of its commit (its log line).
                    var own = System.Text.RegularExpressions.Regex.Matches(agent.Output, @"restored the plugin's deleted table\(s\) with \d+ element\(s\) in ([0-9.]+) ms")
                        .Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Order().ToList();
                    if (own.Count > 0)
                    {
                        progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"agent bench: N={n}: the agent's restore (decision to committed) p50 {own[(own.Count - 1) / 2]:0.0} ms, max {own[^1]:0.0} ms over {own.Count}"));
                    }
                }
                finally
                {
                    Stop(agent);
                }
            }
        }
        finally
        {
            confDir.Delete(recursive: true);
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"{options.AgentFlushes} flushes and {options.AgentVpnCycles} VPN cycles per N; milliseconds; nearest-rank percentiles.");
        return report.ToString();
    }

    /// <summary>Restores whose first table was not yet whole (see <see cref="MeasureFlushes"/>).</summary>
    private int PartialRestores { get; set; }

    private List<double> MeasureFlushes(int n)
    {
        using var nft = new KernelNotifications(KernelNotifications.NetlinkNetfilter, 7);
        var whole = NftOracle.PluginObjectCount(_node) ?? throw new InvalidOperationException("no table inet fwmark before the first flush");
        var samples = new List<double>();
        for (var i = 0; i < options.AgentFlushes; i++)
        {
            nft.Drain();
            using var flush = _node.Start(new CommandSpec("nft", "flush", "ruleset"));
            var deleted = nft.WaitFor(e => e.Type == KernelNotifications.NftDelTable && e.Name == "fwmark", TimeSpan.FromSeconds(10), "the flush's table deletion");
            var restored = nft.WaitFor(e => e.Type == KernelNotifications.NftNewTable && e.Name == "fwmark", TimeSpan.FromSeconds(10), "the agent's restore of table inet fwmark");
            if (!flush.WaitForExit(TimeSpan.FromSeconds(30)) || flush.ExitCode != 0)
                throw new InvalidOperationException($"nft flush ruleset did not succeed: {flush.Output.Trim()}");
            // "Restored" means whole: when the table came back without every object (a restore in two steps), the
            // sample runs until a listing shows it whole, and the run says how often that happened.
            var end = restored.Timestamp;
            var deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
            while (NftOracle.PluginObjectCount(_node) is not { } now || now != whole)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                    throw new InvalidOperationException($"after flush {i + 1} the agent restored {NftOracle.PluginObjectCount(_node)?.ToString(CultureInfo.InvariantCulture) ?? "no table"} objects, not {whole} (N={n})");
                end = Stopwatch.GetTimestamp();
            }

            if (end != restored.Timestamp)
                PartialRestores++;
            samples.Add(Milliseconds(deleted.Timestamp, end));
            Thread.Sleep(50);
        }

        return samples;
    }

    private List<double> MeasureVpnRecovery()
    {
        var device = options.RouteDevice!;
        using var rtnl = new KernelNotifications(KernelNotifications.NetlinkRoute, 1, 7);
        var samples = new List<double>();
        for (var i = 0; i < options.AgentVpnCycles; i++)
        {
            _node.Ip("link", "del", device);
            Thread.Sleep(200);
            rtnl.Drain();
            _node.Ip("link", "add", device, "type", "veth", "peer", "name", $"{device}-peer");
            _node.Ip("addr", "add", "192.0.2.10/24", "dev", device);
            _node.Ip("link", "set", $"{device}-peer", "up");
            _node.Ip("link", "set", device, "up");
            var up = rtnl.WaitFor(e => e.Type == KernelNotifications.RtmNewLink && e.Name == device && (e.Flags & IffUp) != 0, TimeSpan.FromSeconds(10), $"{device} up");
            var route = rtnl.WaitFor(
                e => e.Type == KernelNotifications.RtmNewRoute && e.Table == Table && e.Protocol == FwmarkProtocol && e.Flags == RouteUnicast,
                TimeSpan.FromSeconds(10),
                $"the agent's default route through {device} in table {Table}");
            samples.Add(Milliseconds(up.Timestamp, route.Timestamp));
            Thread.Sleep(100);
        }

        return samples;
    }

    private string Conflist()
    {
        var mark = new JsonObject { ["mark"] = 16, ["mask"] = 16 };
        if (options.RouteDevice is { } device)
            mark["route"] = new JsonObject { ["table"] = Table, ["gateway"] = "192.0.2.1", ["device"] = device };
        return new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = "bench",
            ["plugins"] = new JsonArray(new JsonObject { ["type"] = "fwmark", ["marks"] = new JsonObject { ["vpn"] = mark } }),
        }.ToJsonString();
    }

    /// <summary>SIGTERM to the agent's own PID, then wait.</summary>
    private static void Stop(FwmarkAgent agent)
    {
        if (agent.Terminate(TimeSpan.FromSeconds(5)) is null)
            throw new InvalidOperationException("the agent did not exit within 5 s of SIGTERM");
    }

    private static double Milliseconds(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    private static string Row(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"{Rank(0.5):0.0} | {Rank(0.9):0.0} | {Rank(0.99):0.0} | {sorted[^1]:0.0}");
    }
}
