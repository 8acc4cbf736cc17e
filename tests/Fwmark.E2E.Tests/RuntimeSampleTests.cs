using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests;

/// <summary>
/// Replays what containerd and podman really sent a chained plugin (shared/samples, copied to Samples/ by the build), in their order, against the
/// plugin. Only what ties a sample to the machine it was captured on is adapted: plugin type and marks
/// config, netns path, CNI_PATH, the pod address and the host-side interface names (a real pod of this testbed, so
/// traffic can be checked and the plugin finds the interfaces the result names).
/// </summary>
public sealed class RuntimeSampleTests
{
    [Fact]
    public void Containerd_pod_lifecycle_run_stop_remove()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(fwmark: null, "mustredirect");
        var pod = network.AddPod("web");
        var replay = new Replay(bed, network, pod, "containerd");

        var add = replay.Run("01-RunPodSandbox-ADD.json");
        AssertPassedThrough(add, pod, "1.0.0");
        Assert.Single(replay.Keys());
        bed.AssertPath(pod, AddressFamily.InterNetwork, EgressPath.Vpn);

        var stop = replay.Run("02-StopPodSandbox-DEL.json");
        Assert.Equal("", stop.Stdout);
        Assert.Empty(replay.Keys());
        bed.AssertPath(pod, AddressFamily.InterNetwork, EgressPath.Main);

        // RemovePodSandbox: a second DEL, without prevResult and with an empty CNI_NETNS.
        var before = NftOracle.Stateless(bed.Node);
        replay.Run("03-RemovePodSandbox-DEL.json");
        Assert.Equal(before, NftOracle.Stateless(bed.Node));
    }

    [Fact]
    public void Podman_container_lifecycle_run_stop_start_rm_and_failed_run()
    {
        using var bed = PluginBed.Create();
        var network = bed.Network(fwmark: null, "mustredirect", cniVersion: "0.4.0");
        var pod = network.AddPod("cap1", cniArgs: PodNetwork.PodmanArgs("cap1"));
        var replay = new Replay(bed, network, pod, "podman");

        // `podman run` with CNI_ARGS=FWMARK_NAME=vpn in the caller's environment.
        var run = replay.Run("01-run-with-env-annotation-ip-mac-port.last.1-ADD.json");
        AssertPassedThrough(run, pod, "0.4.0");
        Assert.Equal("4", run.Json!["ips"]![0]!["version"]?.GetValue<string>());
        Assert.Single(replay.Keys());
        bed.AssertPath(pod, AddressFamily.InterNetwork, EgressPath.Vpn);

        replay.Run("02-stop.last.1-DEL.json");
        Assert.Empty(replay.Keys());

        // `podman start` does not repeat the caller's CNI_ARGS: nothing selects a mark any more.
        var start = replay.Run("03-start-again-without-env.last.1-ADD.json");
        AssertPassedThrough(start, pod, "0.4.0");
        Assert.Empty(replay.Keys());
        bed.AssertPath(pod, AddressFamily.InterNetwork, EgressPath.Main);

        replay.Run("04-rm-f.last.1-DEL.json");

        // A run whose ADD failed in an earlier plugin: podman DELs the whole chain without prevResult.
        var before = NftOracle.Stateless(bed.Node);
        replay.Run("07-failing-plugin.last.1-DEL.json");
        Assert.Equal(before, NftOracle.Stateless(bed.Node));
    }

    /// <summary>ADD printed prevResult back, in the request's version, with the pod's address.</summary>
    private static void AssertPassedThrough(CniExecResult add, Pod pod, string version)
    {
        var result = add.Json;
        Assert.True(result is not null, add.Describe());
        Assert.Equal(version, result["cniVersion"]?.GetValue<string>());
        Assert.Equal([pod.IPv4], Pod.ResultAddresses(result));
    }

    private sealed class Replay(PluginBed bed, PodNetwork network, Pod pod, string runtime)
    {
        public CniExecResult Run(string file)
        {
            var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Samples", runtime, file)))!.AsObject();
            var env = sample["env"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>());
            if (!string.IsNullOrEmpty(env["CNI_NETNS"]))
            {
                env["CNI_NETNS"] = pod.Netns.Path;
            }

            env["CNI_PATH"] = bed.BinDir;
            var stdin = sample["stdin"]!.AsObject();
            stdin["type"] = "fwmark";
            stdin["marks"] = FwmarkPluginConfig.Vpn()["marks"]!.DeepClone();
            if (stdin["prevResult"] is JsonObject prev)
            {
                AdaptPrevResult(prev);
            }

            var result = bed.Fwmark(network.Chain, env, stdin.ToJsonString());
            Assert.True(result.Succeeded, $"{runtime}/{file}:\n{result.Describe()}");
            return result;
        }

        /// <summary>What marks the pod now: elements for its address and for its host veth (either path).</summary>
        public List<string> Keys() =>
        [
            .. NftOracle.ElementsFor(bed.Node, pod.IPv4).Select(e => $"{e.Set} {e.Address}"),
            .. NftOracle.InterfaceElements(bed.Node).Where(e => e.Name == PluginBed.HostVeth(pod)).Select(e => $"{e.Set} {e.Name}"),
        ];

        private void AdaptPrevResult(JsonObject prev)
        {
            var real = pod.AddResult!["ips"]!.AsArray()
                .Single(ip => ip!["address"]!.GetValue<string>().StartsWith($"{pod.IPv4}/", StringComparison.Ordinal))!;
            foreach (var ip in prev["ips"]!.AsArray())
            {
                ip!["address"] = real["address"]!.GetValue<string>();
                ip["gateway"] = real["gateway"]?.GetValue<string>();
            }

            // The host side the sample names (bridge, veth) is this testbed's, in the sample's order.
            var hostSide = new Queue<string>([network.Bridge, PluginBed.HostVeth(pod)]);
            foreach (var iface in prev["interfaces"]!.AsArray())
            {
                if (iface?["sandbox"] is not null)
                {
                    iface["sandbox"] = pod.Netns.Path;
                }
                else if (iface is not null && hostSide.TryDequeue(out var name))
                {
                    iface["name"] = name;
                }
            }
        }
    }
}
