using System.Text.Json.Nodes;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Testbed.Cni;

/// <summary>
/// A hand-driven CNI runtime for one conflist, doing what libcni does: each plugin is exec'd from the
/// plugin dirs inside the node namespace with the CNI_* environment and a stdin made of its plugin object
/// plus cniVersion, name, prevResult and the runtimeConfig it declared capabilities for.
/// ADD and CHECK run in list order, DEL in reverse; every verb stops at the first failing plugin.
/// </summary>
public sealed class CniChain
{
    public const string Add = "ADD";
    public const string Del = "DEL";
    public const string Check = "CHECK";
    public const string Gc = "GC";

    private readonly Netns _node;
    private readonly IReadOnlyList<string> _pluginDirs;

    public CniChain(Netns node, string conflistJson, IReadOnlyList<string> pluginDirs)
    {
        _node = node;
        _pluginDirs = pluginDirs;
        Conflist = JsonNode.Parse(conflistJson)?.AsObject() ?? throw new ArgumentException("conflist is not a JSON object", nameof(conflistJson));
        NetworkName = Conflist["name"]?.GetValue<string>() ?? throw new ArgumentException("conflist has no name", nameof(conflistJson));
        CniVersion = Conflist["cniVersion"]?.GetValue<string>() ?? throw new ArgumentException("conflist has no cniVersion", nameof(conflistJson));
        Plugins = [.. (Conflist["plugins"]?.AsArray() ?? []).Select(p => p!.AsObject())];
    }

    public JsonObject Conflist { get; }

    public string NetworkName { get; }

    public string CniVersion { get; }

    public IReadOnlyList<JsonObject> Plugins { get; }

    /// <summary>CNI_PATH: the plugin dirs joined with ':'.</summary>
    public string CniPath => string.Join(':', _pluginDirs);

    public CniChainResult RunAdd(CniAttachment attachment)
    {
        var steps = new List<CniExecResult>();
        JsonNode? prev = null;
        foreach (var plugin in Plugins)
        {
            var step = Invoke(plugin, Add, attachment, prev);
            steps.Add(step);
            if (!step.Succeeded)
            {
                break;
            }

            prev = step.Json;
        }

        return new CniChainResult(Add, steps);
    }

    /// <summary>DEL in reverse order; <paramref name="prevResult"/> is the final ADD result, or null for a runtime that lost it.</summary>
    public CniChainResult RunDel(CniAttachment attachment, JsonNode? prevResult) =>
        RunEach(Del, Plugins.Reverse(), attachment, prevResult);

    public CniChainResult RunCheck(CniAttachment attachment, JsonNode prevResult) =>
        RunEach(Check, Plugins, attachment, prevResult);

    /// <summary>GC with the attachments the runtime still considers valid, sent to every plugin in order.</summary>
    public CniChainResult RunGc(IEnumerable<(string ContainerId, string IfName)> valid)
    {
        var list = new JsonArray([.. valid.Select(v => (JsonNode)new JsonObject { ["containerID"] = v.ContainerId, ["ifname"] = v.IfName })]);
        var steps = new List<CniExecResult>();
        foreach (var plugin in Plugins)
        {
            var stdin = BaseStdin(plugin);
            stdin["cni.dev/valid-attachments"] = list.DeepClone();
            // libcni also sends the legacy spelling.
            stdin["cni.dev/attachments"] = list.DeepClone();
            var step = Exec(Type(plugin), Environment(Gc, null), stdin.ToJsonString());
            steps.Add(step);
            if (!step.Succeeded)
            {
                break;
            }
        }

        return new CniChainResult(Gc, steps);
    }

    /// <summary>Runs one plugin of the chain (by its type) for one verb, e.g. to hand it a crafted prevResult.</summary>
    public CniExecResult Invoke(string pluginType, string command, CniAttachment attachment, JsonNode? prevResult) =>
        Invoke(Plugins.First(p => Type(p) == pluginType), command, attachment, prevResult);

    /// <summary>The stdin a plugin gets for one verb (useful to craft variations of it).</summary>
    public JsonObject Stdin(string pluginType, CniAttachment attachment, JsonNode? prevResult) =>
        BuildStdin(Plugins.First(p => Type(p) == pluginType), attachment, prevResult);

    /// <summary>The CNI_* environment libcni sets for a verb (all six variables, empty where not applicable).</summary>
    public Dictionary<string, string?> Environment(string command, CniAttachment? attachment) => new()
    {
        ["CNI_COMMAND"] = command,
        ["CNI_CONTAINERID"] = attachment?.ContainerId ?? "",
        ["CNI_NETNS"] = attachment?.NetnsPath ?? "",
        ["CNI_IFNAME"] = attachment?.IfName ?? "",
        ["CNI_ARGS"] = attachment?.CniArgs ?? "",
        ["CNI_PATH"] = CniPath,
    };

    /// <summary>
    /// Execs the plugin binary of <paramref name="pluginType"/> in the node namespace with exactly this CNI
    /// environment (the runner's own CNI_* variables are dropped) and stdin.
    /// </summary>
    public CniExecResult Exec(string pluginType, IReadOnlyDictionary<string, string?> env, string stdin)
    {
        var binary = Locate(pluginType);
        var command = env.TryGetValue("CNI_COMMAND", out var c) ? c ?? "" : "";
        var result = _node.Exec(new CommandSpec(binary)
        {
            Env = env,
            DropInheritedPrefixes = ["CNI_"],
            Stdin = stdin,
        });
        return new CniExecResult(pluginType, command, stdin, result);
    }

    private CniChainResult RunEach(string command, IEnumerable<JsonObject> plugins, CniAttachment attachment, JsonNode? prevResult)
    {
        var steps = new List<CniExecResult>();
        foreach (var plugin in plugins)
        {
            var step = Invoke(plugin, command, attachment, prevResult);
            steps.Add(step);
            if (!step.Succeeded)
            {
                break;
            }
        }

        return new CniChainResult(command, steps);
    }

    private CniExecResult Invoke(JsonObject plugin, string command, CniAttachment attachment, JsonNode? prevResult) =>
        Exec(Type(plugin), Environment(command, attachment), BuildStdin(plugin, attachment, prevResult).ToJsonString());

    private JsonObject BuildStdin(JsonObject plugin, CniAttachment attachment, JsonNode? prevResult)
    {
        var stdin = BaseStdin(plugin);
        if (prevResult is not null)
        {
            stdin["prevResult"] = prevResult.DeepClone();
        }

        var runtimeConfig = new JsonObject();
        foreach (var (capability, declared) in plugin["capabilities"]?.AsObject() ?? [])
        {
            if (declared is JsonValue v && v.TryGetValue<bool>(out var on) && on
                && attachment.CapabilityArgs.TryGetValue(capability, out var value))
            {
                runtimeConfig[capability] = value?.DeepClone();
            }
        }

        if (runtimeConfig.Count > 0)
        {
            stdin["runtimeConfig"] = runtimeConfig;
        }

        return stdin;
    }

    private JsonObject BaseStdin(JsonObject plugin)
    {
        var stdin = plugin.DeepClone().AsObject();
        stdin["cniVersion"] = CniVersion;
        stdin["name"] = NetworkName;
        return stdin;
    }

    private string Locate(string pluginType)
    {
        foreach (var dir in _pluginDirs)
        {
            var path = Path.Combine(dir, pluginType);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new TestbedException($"failed to find plugin {pluginType}: not in {CniPath}");
    }

    private static string Type(JsonObject plugin) => plugin["type"]?.GetValue<string>() ?? throw new TestbedException("plugin object has no type");
}
