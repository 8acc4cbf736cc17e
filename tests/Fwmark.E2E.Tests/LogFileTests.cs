using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests;

/// <summary>logFile through the published binary and a real chain: one line per verb, and a log that cannot be written changes nothing.</summary>
public sealed class LogFileTests
{
    [Fact]
    public void Each_verb_of_a_pod_appends_one_line_naming_pod_mark_why_and_outcome()
    {
        using var bed = PluginBed.Create();
        var log = Path.Combine(bed.Bed.WorkDir, "fwmark.log");
        var config = FwmarkPluginConfig.Vpn();
        config["logFile"] = log;
        var network = bed.Network(config);
        var pod = network.AddPod("logged", FwmarkPluginConfig.Annotated("vpn"));

        Assert.True(network.Del(pod).Succeeded);

        var lines = File.ReadAllLines(log).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(["ADD", "DEL"], lines.Select(l => (string)l["verb"]!));
        var add = lines[0];
        Assert.Equal(pod.ContainerId, (string?)add["container"]);
        Assert.Equal("vpn", (string?)add["mark"]);
        Assert.Equal("annotation cni.fwmark.net/name", (string?)add["why"]);
        Assert.Equal(pod.Addresses.Select(a => a.ToString()), add["addresses"]!.AsArray().Select(a => (string)a!));
        Assert.Equal("ok", (string?)add["outcome"]);
        Assert.InRange((double)add["durationMs"]!, 0.001, 30_000);
    }

    [Fact]
    public void A_log_file_on_a_full_disk_does_not_fail_add_and_the_pod_is_still_steered()
    {
        using var bed = PluginBed.Create();
        var config = FwmarkPluginConfig.Vpn();
        config["logFile"] = "/dev/full";
        var network = bed.Network(config);

        var pod = network.AddPod("full", FwmarkPluginConfig.Annotated("vpn"));

        bed.AssertPath(pod, AddressFamily.InterNetwork, EgressPath.Vpn);
    }
}
