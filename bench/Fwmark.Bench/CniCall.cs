using System.Text.Json.Nodes;
using Fwmark.Testbed.Processes;

namespace Fwmark.Bench;

/// <summary>The verbs the benchmark sends, as a runtime names them in <c>CNI_COMMAND</c>.</summary>
internal enum CniVerb
{
    Add,
    Check,
    Del,
}

/// <summary>
/// Builds the environment and stdin a runtime hands a chained fwmark plugin (cniVersion 1.0.0, a pod
/// annotation selecting the "vpn" mark) and execs the plugin with them, timed by the test bed's
/// <see cref="ProcessRunner"/>: from just before the fork until the plugin has exited and closed its output.
/// </summary>
internal sealed class CniCall(string pluginPath, string cniNetns, string? routeDevice, string? logFile, bool bridgePorts = false)
{
    /// <summary>Execs the plugin once. <paramref name="prevResult"/> null means "no prevResult key".</summary>
    public CommandResult Run(CniVerb verb, FakePod pod, JsonNode? prevResult)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["CNI_COMMAND"] = verb.ToString().ToUpperInvariant(),
            ["CNI_CONTAINERID"] = pod.ContainerId,
            ["CNI_NETNS"] = cniNetns,
            ["CNI_IFNAME"] = bridgePorts ? pod.PodInterface : "eth0",
            ["CNI_PATH"] = "/opt/cni/bin",
            ["CNI_ARGS"] = $"IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME={pod.PodName}",
        };

        var result = Exec(pluginPath, env, Stdin(prevResult));
        if (result.ExitCode != 0)
            throw new PluginCallFailedException(verb, pod, result);
        return result;
    }

    /// <summary>
    /// Runs a binary the way a CNI runtime does: an explicit environment (PATH, the plugin's state dir and
    /// <paramref name="env"/>; the runner's DOTNET_* would be noise), the whole config on stdin.
    /// </summary>
    public static CommandResult Exec(string path, IReadOnlyDictionary<string, string?> env, string stdin)
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        };
        // The plugin's state dir (lock, attachment records): run.sh points it at a scratch dir, never /run/fwmark.
        if (Environment.GetEnvironmentVariable("FWMARK_RUN_DIR") is { Length: > 0 } stateDir)
            environment["FWMARK_RUN_DIR"] = stateDir;
        foreach (var (key, value) in env)
            environment[key] = value;

        var result = ProcessRunner.Run(new CommandSpec(path) { Env = environment, InheritEnvironment = false, Stdin = stdin });
        return result.TimedOut
            ? throw new TimeoutException($"failed to wait for binary {path}: still running after {CommandSpec.DefaultTimeout.TotalSeconds}s")
            : result;
    }

    /// <summary>What the main plugin of the chain would have returned for this pod.</summary>
    public JsonObject MainPluginResult(FakePod pod)
    {
        var interfaces = bridgePorts
            ? new JsonArray(
                new JsonObject { ["name"] = pod.Bridge },
                new JsonObject { ["name"] = pod.HostVeth },
                new JsonObject { ["name"] = pod.PodInterface, ["sandbox"] = cniNetns })
            : new JsonArray(new JsonObject { ["name"] = "eth0", ["sandbox"] = cniNetns });
        var ips = new JsonArray();
        foreach (var cidr in pod.Cidrs)
            ips.Add(new JsonObject { ["address"] = cidr, ["interface"] = interfaces.Count - 1 });
        return new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["interfaces"] = interfaces,
            ["ips"] = ips,
        };
    }

    private string Stdin(JsonNode? prevResult)
    {
        var config = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = "bench",
            ["type"] = "fwmark",
            ["capabilities"] = new JsonObject { ["io.kubernetes.cri.pod-annotations"] = true },
            ["marks"] = new JsonObject { ["vpn"] = Mark() },
            ["runtimeConfig"] = new JsonObject
            {
                ["io.kubernetes.cri.pod-annotations"] = new JsonObject { ["cni.fwmark.net/name"] = "vpn" },
            },
        };
        if (logFile is not null)
            config["logFile"] = logFile;
        if (prevResult is not null)
            config["prevResult"] = prevResult.DeepClone();
        return config.ToJsonString();
    }

    private JsonObject Mark()
    {
        var mark = new JsonObject { ["mark"] = 16, ["mask"] = 16 };
        if (routeDevice is not null)
            mark["route"] = new JsonObject { ["table"] = 2184, ["gateway"] = "192.0.2.1", ["device"] = routeDevice };
        return mark;
    }
}
