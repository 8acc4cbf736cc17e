using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Records;

/// <summary>
/// Issue 8 items 1 and 2, without any agent: ADD records each attachment (in the run's FWMARK_RUN_DIR, never
/// the machine's /run/fwmark), DEL removes the record, and after <c>nft flush ruleset</c> — which left marked
/// pods leaving through the main gateway on main, with <c>fwmark reconcile</c> exiting 0 — reconcile restores
/// the table and every recorded attachment, so real connections leave through the VPN again.
/// </summary>
public sealed class RestoreTests
{
    [Fact]
    public void Reconcile_restores_the_table_and_every_recorded_attachment_after_nft_flush_ruleset()
    {
        using var bed = RoutedBed.Create();
        var first = bed.AddMarked("rec1");
        var second = bed.AddMarked("rec2");
        var plain = bed.AddPlain("plain");
        foreach (var family in Families)
        {
            bed.AssertPath(first, family, EgressPath.Vpn, "before the flush");
        }

        bed.Node.Run("nft", "flush", "ruleset");

        // The finding: nothing marks the pods any more, so the main path takes them (the rules need the mark).
        bed.AssertPath(first, AddressFamily.InterNetwork, EgressPath.Main, "after nft flush ruleset, before reconcile");

        var repair = bed.Reconcile();

        Assert.True(repair.Succeeded, $"reconcile after the flush\n{repair.Describe()}\n{bed.Diagnostics()}");
        foreach (var pod in new[] { first, second })
        {
            Assert.True(repair.Stdout.Contains($"{RoutedBed.NetworkName}/{pod.ContainerId}/eth0", StringComparison.Ordinal)
                && repair.Stdout.Contains("restored", StringComparison.Ordinal), $"reconcile does not say it restored {pod.Name}\n{repair.Describe()}");
            foreach (var family in Families)
            {
                bed.AssertPath(pod, family, EgressPath.Vpn, "after the repairing reconcile");
            }
        }

        bed.AssertPath(plain, AddressFamily.InterNetwork, EgressPath.Main, "an unmarked pod after reconcile");
        var again = bed.Reconcile();
        Assert.True(again.Succeeded && again.Stdout.Length == 0, $"a second reconcile had something to do\n{again.Describe()}");

        // CHECK agrees that the restored attachment is exactly what ADD makes.
        var check = bed.Network.Chain.RunCheck(first.Attachment with { CapabilityArgs = FwmarkPluginConfig.Annotated("vpn") }, first.AddResult!);
        Assert.True(check.Succeeded, check.Describe());
    }

    [Fact]
    public void Add_records_the_attachment_in_the_runs_state_dir_and_del_removes_it()
    {
        using var bed = RoutedBed.Create();
        var machineRecords = Path.Combine("/run/fwmark/attachments", RoutedBed.NetworkName);
        var pod = bed.Network.NewPod("recorded", FwmarkPluginConfig.Annotated("vpn"));
        bed.Network.Add(pod).EnsureSuccess();

        var record = Assert.Single(RecordsOf(bed)).Json;
        Assert.Equal(RoutedBed.NetworkName, (string?)record["network"]);
        Assert.Equal(pod.ContainerId, (string?)record["containerId"]);
        Assert.Equal("eth0", (string?)record["ifName"]);
        Assert.Equal(pod.Addresses.Select(a => a.ToString()).Order(), record["addresses"]!.AsArray().Select(a => (string)a!).Order());
        Assert.Equal(16u, (uint)record["mark"]!["value"]!);
        Assert.Equal(RoutedBed.Table, (uint)record["route"]!["table"]!);
        Assert.Equal(("default", "recorded"), ((string?)record["pod"]!["namespace"], (string?)record["pod"]!["name"]));
        Assert.False(Directory.Exists(machineRecords) && Directory.EnumerateFiles(machineRecords).Any(f => File.ReadAllText(f).Contains(pod.ContainerId, StringComparison.Ordinal)),
            "the test run wrote into the machine's /run/fwmark");

        var del = bed.Network.Del(pod, withPrevResult: false);

        Assert.True(del.Succeeded, del.Describe());
        Assert.Empty(RecordsOf(bed));
    }

    [Fact]
    public void Reconcile_fails_naming_a_record_it_cannot_read()
    {
        using var bed = RoutedBed.Create();
        bed.AddMarked("good");
        var corrupt = Path.Combine(bed.Bed.RecordsDir, RoutedBed.NetworkName, "0123456789abcdef.json");
        File.WriteAllText(corrupt, "{\"version\": 1,");

        var result = bed.Reconcile();

        Assert.True(result.ExitCode == 1 && !result.TimedOut, $"reconcile accepted a corrupt record\n{result.Describe()}");
        Assert.Contains(corrupt, result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_network_routing_the_same_mark_differently_is_refused_naming_both()
    {
        using var bed = RoutedBed.Create();
        var resident = bed.AddMarked("resident");
        var rulesBefore = bed.Node.Run("ip", "rule").Stdout;
        var other = bed.Plugin.Network(FwmarkRouteConfig.Vpn(bed.Bed, RoutedBed.Table + 1), "othernet");
        var pod = other.NewPod("intruder", FwmarkPluginConfig.Annotated("vpn"));

        var add = other.Add(pod);

        var failed = add.Failed;
        Assert.True(failed is { Plugin: "fwmark", ErrorCode: 7 }, $"expected fwmark to refuse with code 7\n{add.Describe()}");
        var msg = (string)failed!.Json!["msg"]!;
        Assert.Contains("network othernet routes mark vpn", msg, StringComparison.Ordinal);
        Assert.Contains($"network {RoutedBed.NetworkName} already routes 0x10/0x10", msg, StringComparison.Ordinal);
        // The first network's routing was not touched: its pod still leaves through the VPN, via its table.
        Assert.Equal(rulesBefore, bed.Node.Run("ip", "rule").Stdout);
        bed.AssertPath(resident, AddressFamily.InterNetwork, EgressPath.Vpn, "after the refused ADD");
    }

    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    private static List<(string Path, JsonObject Json)> RecordsOf(RoutedBed bed)
    {
        var dir = Path.Combine(bed.Bed.RecordsDir, RoutedBed.NetworkName);
        return Directory.Exists(dir)
            ? [.. Directory.GetFiles(dir, "*.json").Select(f => (f, JsonNode.Parse(File.ReadAllText(f))!.AsObject()))]
            : [];
    }
}
