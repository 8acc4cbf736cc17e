using System.Globalization;
using System.Net.Sockets;
using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Processes;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Status;

/// <summary>
/// The agent's /metrics, scraped over HTTP inside the node namespace the test made (socat as the client, so the
/// request comes from that namespace's loopback), parsed as Prometheus text by <see cref="PrometheusText"/>:
/// per-attachment counters that follow real traffic, repairs counted by kind with their reaction time after faults
/// made by hand, and the agent's health.
/// </summary>
public sealed class AgentMetricsTests(ITestOutputHelper output)
{
    private const string Address = "127.0.0.1:19573";

    [Fact]
    public void Metrics_count_the_pods_packets_and_the_agents_repairs_with_their_reaction_time()
    {
        using var bed = RoutedBed.Create();
        var marked = bed.AddMarked("mt-vpn");
        using var agent = FwmarkAgent.Start(bed.Node, bed.FwmarkBinary, bed.ConfDir.Path, "--metrics-address", Address);
        Assert.Contains($"metrics on http://{Address}/metrics", agent.Output, StringComparison.Ordinal);

        var first = WaitFor(bed, m => m.Single("fwmark_agent_last_full_check_timestamp_seconds").Value > 0, "the first full check");
        Assert.Equal(1, first.Single("fwmark_agent_up").Value);
        Assert.Equal("histogram", first.Families["fwmark_agent_repair_reaction_seconds"].Type);
        Assert.Equal("counter", first.Families["fwmark_agent_repairs_total"].Type);
        var started = first.Single("fwmark_agent_start_time_seconds").Value;
        Assert.InRange(started, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 120, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.False(first.Families.ContainsKey("fwmark_agent_running"), "the heartbeat gauge is status --prometheus's, the agent says fwmark_agent_up");

        // Faults made by hand: the agent repairs them and counts each with its reaction time.
        bed.Node.Run("nft", "delete", "table", "inet", "fwmark");
        var restored = WaitFor(bed, m => Repairs(m, "table_restore") + Repairs(m, "table") >= 1, "the table's restore");
        var kind = Repairs(restored, "table_restore") >= 1 ? "table_restore" : "table";
        var reactions = restored.Single("fwmark_agent_repair_reaction_seconds_count", ("kind", kind)).Value;
        var seconds = restored.Single("fwmark_agent_repair_reaction_seconds_sum", ("kind", kind)).Value;
        Assert.True(reactions >= 1 && seconds > 0 && seconds / reactions < 1, $"{reactions} reactions, {seconds} s in all\n{agent.Output}");
        output.WriteLine($"{kind}: {reactions} repair(s), {seconds * 1000:0.0} ms reaction in all");

        bed.Node.Ip("rule", "del", "pref", (bed.Priority + 1).ToString(CultureInfo.InvariantCulture));
        var rerouted = WaitFor(bed, m => Repairs(m, "routing") >= 1, "the routing repair");
        Assert.True(rerouted.Single("fwmark_agent_repair_reaction_seconds_count", ("kind", "routing")).Value >= 1, agent.Output);

        // The counters follow real connections (elements re-made by the restore started again at 0).
        var before = Packets(rerouted, marked);
        for (var i = 0; i < 3; i++)
        {
            bed.AssertPath(marked, AddressFamily.InterNetwork, EgressPath.Vpn, "while scraping");
        }

        var after = Scrape(bed);
        Assert.True(Packets(after, marked) >= before + 9, $"{before} -> {Packets(after, marked)} packets after 3 connections");
        Assert.Equal(1, after.Single("fwmark_mark_device_up", ("mark", "vpn")).Value);
        Assert.True(after.Single("fwmark_mark_packets_total", ("mark", "vpn")).Value >= Packets(after, marked));
    }

    [Fact]
    public void Kill_switch_drops_are_counted_while_the_vpn_is_down_and_not_while_traffic_flows_through_it()
    {
        using var bed = RoutedBed.Create();
        var marked = bed.AddMarked("mt-ks");
        bed.Bed.Main.Watch(marked.IPv4);
        using var agent = FwmarkAgent.Start(bed.Node, bed.FwmarkBinary, bed.ConfDir.Path, "--metrics-address", Address);
        var start = Scrape(bed); // the first scrape makes the counting table
        Assert.Equal("counter", start.Families["fwmark_killswitch_dropped_packets_total"].Type);

        for (var i = 0; i < 3; i++)
        {
            bed.AssertPath(marked, AddressFamily.InterNetwork, EgressPath.Vpn, "with the VPN up");
        }

        var flowing = Scrape(bed);
        Assert.Equal(Drops(start, "ipv4"), Drops(flowing, "ipv4"));

        VpnUplink.SetDown(bed.Bed);
        for (var i = 0; i < 5; i++)
        {
            bed.AssertRefusedFast(marked, AddressFamily.InterNetwork, "with the VPN down");
        }

        bed.AssertRefusedFast(marked, AddressFamily.InterNetworkV6, "with the VPN down");
        var down = Scrape(bed);
        output.WriteLine($"kill-switch drops: IPv4 {Drops(start, "ipv4")} at start, {Drops(flowing, "ipv4")} after 3 connections through the VPN, {Drops(down, "ipv4")} after 5 refused; IPv6 {Drops(down, "ipv6")} after 1 refused");
        Assert.True(Drops(down, "ipv4") >= Drops(flowing, "ipv4") + 5, $"{Drops(flowing, "ipv4")} -> {Drops(down, "ipv4")} IPv4 drops after 5 refused connections");
        Assert.True(Drops(down, "ipv6") >= Drops(flowing, "ipv6") + 1, $"{Drops(down, "ipv6")} IPv6 drops");
        Assert.Equal(0, bed.Bed.Main.PacketsFrom(marked.IPv4));
        Assert.True(bed.Node.Exec("nft", "list", "table", "inet", "fwmark-metrics").Succeeded, "no counting table while the agent runs");

        Assert.Equal(0, agent.Terminate(TimeSpan.FromSeconds(10)));
        Assert.False(bed.Node.Exec("nft", "list", "table", "inet", "fwmark-metrics").Succeeded, "the counting table outlived the agent");
    }

    [Fact]
    public void Only_get_metrics_is_served_and_off_disables_the_listener()
    {
        using var bed = RoutedBed.Create();
        using (var agent = FwmarkAgent.Start(bed.Node, bed.FwmarkBinary, bed.ConfDir.Path, "--metrics-address", Address))
        {
            Assert.StartsWith("HTTP/1.1 404 ", Http(bed, "GET /other HTTP/1.1"), StringComparison.Ordinal);
            Assert.StartsWith("HTTP/1.1 405 ", Http(bed, "POST /metrics HTTP/1.1"), StringComparison.Ordinal);
            var ok = Http(bed, "GET /metrics HTTP/1.1");
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", ok, StringComparison.Ordinal);
            Assert.Contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n", ok, StringComparison.Ordinal);
            Assert.Equal(0, agent.Terminate(TimeSpan.FromSeconds(10)));
        }

        using var quiet = FwmarkAgent.Start(bed.Node, bed.FwmarkBinary, bed.ConfDir.Path, "--metrics-address", "off");
        Assert.Contains("metrics off", quiet.Output, StringComparison.Ordinal);
        Assert.False(Connect(bed).Succeeded, "something still listens on the metrics port with --metrics-address off");
    }

    private static double Drops(PrometheusText metrics, string family) =>
        metrics.Single("fwmark_killswitch_dropped_packets_total", ("mark", "vpn"), ("family", family)).Value;

    private static double Repairs(PrometheusText metrics, string kind) => metrics.Single("fwmark_agent_repairs_total", ("kind", kind)).Value;

    private static double Packets(PrometheusText metrics, Pod pod) =>
        metrics.Single("fwmark_attachment_packets_total", ("container", pod.ContainerId), ("pod_name", pod.Name)).Value;

    private static PrometheusText WaitFor(RoutedBed bed, Func<PrometheusText, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var metrics = Scrape(bed);
            if (condition(metrics))
            {
                return metrics;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no metrics showing {what} within 10 s:\n{string.Join('\n', metrics.Samples.Where(s => s.Name.StartsWith("fwmark_agent", StringComparison.Ordinal)))}");
            Thread.Sleep(50);
        }
    }

    /// <summary>GET /metrics; the body parsed (which fails the test on any format violation).</summary>
    private static PrometheusText Scrape(RoutedBed bed)
    {
        var response = Http(bed, "GET /metrics HTTP/1.1");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        var split = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var length = response[..split].Split("\r\n").Single(h => h.StartsWith("Content-Length: ", StringComparison.Ordinal))["Content-Length: ".Length..];
        var body = response[(split + 4)..];
        Assert.Equal(int.Parse(length, CultureInfo.InvariantCulture), System.Text.Encoding.UTF8.GetByteCount(body));
        return PrometheusText.Parse(body);
    }

    private static string Http(RoutedBed bed, string requestLine)
    {
        var result = Connect(bed, $"{requestLine}\r\nHost: {Address}\r\nConnection: close\r\n\r\n");
        Assert.True(result.Succeeded, result.Describe());
        return result.Stdout;
    }

    private static CommandResult Connect(RoutedBed bed, string request = "") =>
        bed.Node.Exec(new CommandSpec("socat", "-t", "5", "-", $"TCP:{Address}") { Stdin = request, Timeout = TimeSpan.FromSeconds(15) });
}
