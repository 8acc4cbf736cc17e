using System.Net;
using System.Text.Json.Nodes;
using Fwmark.Runtimes.Tests.Infrastructure;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Processes;

namespace Fwmark.Runtimes.Tests.Podman;

/// <summary>
/// A node (the testbed's namespaces) where podman 4 with its CNI backend runs inside the node namespace, with
/// this run's storage, run root and network config dir, an image imported from busybox-static, and three
/// networks made the way a user makes them (<c>podman network create</c>, then editing the conflist):
/// <list type="bullet">
/// <item><see cref="Redirect"/> ("mustredirect"): <c>ipMasq</c> false, fwmark appended with <c>defaultMark</c>
/// "gw" (0x888) routed to the VPN gateway: every container on it leaves through that gateway.</item>
/// <item><see cref="Plain"/>: podman's defaults (masquerade on the node), no fwmark: the main path.</item>
/// <item><see cref="Select"/>: like mustredirect but without <c>defaultMark</c>: only containers started with
/// <c>CNI_ARGS=FWMARK_NAME=gw</c> are marked.</item>
/// </list>
/// The protected constructor gives a node without networks for another backend (<see cref="NetavarkNode"/>).
/// One per test class; <see cref="Dispose"/> removes containers, networks, podman's result cache entries of
/// this run's containers, mounts, dirs and namespaces, also when the constructor fails half-way.
/// </summary>
public class PodmanNode : IDisposable
{
    public const string Image = "localhost/fwmark-busybox";
    public const string Redirect = "mustredirect";
    public const string Plain = "plainnet";
    public const string Select = "selectnet";
    public const string MarkName = "gw";
    public const uint Table = 2184;

    /// <summary>libcni's default cache dir; podman 4.3's CNI backend offers no way to move it.</summary>
    private const string CniResultCache = "/var/lib/cni/results";

    private readonly PodmanPaths _paths;
    private readonly List<string> _containerIds = [];
    private readonly List<string> _netnsPaths = [];
    private readonly List<string> _networks = [];

    public PodmanNode()
        : this("cni")
    {
        try
        {
            CreateNetwork(Redirect, 30, Fwmark(defaultMark: true));
            CreateNetwork(Plain, 31, fwmark: null);
            CreateNetwork(Select, 32, Fwmark(defaultMark: false));
        }
        catch
        {
            Bed.Dispose();
            throw;
        }
    }

    /// <summary>The node, podman's config for <paramref name="backend"/> and the image; no networks yet.</summary>
    protected PodmanNode(string backend)
    {
        Backend = backend;
        Prerequisites.Require("podman", "podman");
        Prerequisites.Require("conmon", "conmon");
        Prerequisites.Require("runc", "runc");
        FwmarkBinaryPath = FwmarkBinary.FromEnvironment();
        Bed = NodeTestbed.Create();
        try
        {
            BinDir = CniBinDir.Create(Bed, FwmarkBinaryPath);
            _paths = new PodmanPaths(Path.Combine(Bed.WorkDir, "podman"));
            Directory.CreateDirectory(_paths.Dir);
            Bed.Cleanup.Push($"podman dir {_paths.Dir}", () => Mounts.UnmountAndDelete(_paths.Dir));
            File.WriteAllText(_paths.ContainersConf, PodmanConfig.ContainersConf(_paths, BinDir, backend, Bed.StateDir));
            File.WriteAllText(_paths.StorageConf, PodmanConfig.StorageConf(_paths));
            Bed.Cleanup.Push("podman containers and networks", RemoveEverything);

            File.WriteAllBytes(_paths.RootfsTar, BusyboxImage.RootfsTar());
            Podman("import", "--change", "CMD=[\"/bin/sh\"]", _paths.RootfsTar, Image).EnsureSuccess();
            Version = Podman("version", "--format", "{{.Client.Version}}").EnsureSuccess().Stdout.Trim();
        }
        catch
        {
            Bed.Dispose();
            throw;
        }
    }

    public NodeTestbed Bed { get; }

    /// <summary>podman's network backend in this node's containers.conf: "cni" or "netavark".</summary>
    public string Backend { get; }

    /// <summary>This run's podman dir (config, storage, network config), removed with the node.</summary>
    protected string Dir => _paths.Dir;

    public string FwmarkBinaryPath { get; }

    public string BinDir { get; }

    public string Version { get; }

    /// <summary>
    /// Runs podman in the node namespace with this run's config. <paramref name="callerCniArgs"/> is the CNI_ARGS
    /// of the caller's environment (podman passes it on to the plugins); the runner's own CNI_* never leak in.
    /// </summary>
    public CommandResult Podman(IReadOnlyList<string> args, string? callerCniArgs = null)
    {
        var env = new Dictionary<string, string?>
        {
            ["CONTAINERS_CONF"] = _paths.ContainersConf,
            ["CONTAINERS_STORAGE_CONF"] = _paths.StorageConf,
        };
        if (callerCniArgs is not null)
        {
            env["CNI_ARGS"] = callerCniArgs;
        }

        return Nsenter.Run(Bed.Node, new CommandSpec("podman", args)
        {
            Env = env,
            DropInheritedPrefixes = ["CNI_"],
            Timeout = TimeSpan.FromSeconds(90),
        });
    }

    public CommandResult Podman(params string[] args) => Podman((IReadOnlyList<string>)args);

    /// <summary><c>podman run -d --name NAME --network NET IMAGE sleep</c>, then what inspect says about it.</summary>
    public PodmanContainer Run(string name, string network, string? callerCniArgs = null)
    {
        var id = Podman(["run", "-d", "--name", name, "--network", network, Image, "sleep", "3600"], callerCniArgs).EnsureSuccess().Stdout.Trim();
        lock (_containerIds)
        {
            _containerIds.Add(id);
        }

        return Inspect(name, network);
    }

    /// <summary>The container's current netns and addresses (a stopped-and-started container has new ones).</summary>
    public PodmanContainer Inspect(string name, string network)
    {
        var json = JsonNode.Parse(Podman("inspect", "--format", "json", name).EnsureSuccess().Stdout)?.AsArray()[0]
            ?? throw new TestbedException($"podman inspect {name} returned nothing");
        var settings = json["NetworkSettings"];
        var sandbox = settings?["SandboxKey"]?.GetValue<string>();
        if (string.IsNullOrEmpty(sandbox))
        {
            throw new TestbedException($"podman inspect {name}: no SandboxKey (is it running?)\n{json}");
        }

        lock (_netnsPaths)
        {
            _netnsPaths.Add(sandbox);
        }

        var onNetwork = settings?["Networks"]?[network] ?? throw new TestbedException($"container {name} is not on network {network}\n{json}");
        var addresses = new[] { "IPAddress", "GlobalIPv6Address" }
            .Select(key => onNetwork[key]?.GetValue<string>())
            .Where(text => !string.IsNullOrEmpty(text))
            .Select(text => IPAddress.Parse(text!))
            .ToList();
        var netns = RuntimeNetns.Open(sandbox);
        RuntimeNetns.WaitForUsableIPv6(netns);
        return new PodmanContainer(name, json["Id"]!.GetValue<string>(), network, netns, addresses);
    }

    /// <summary><c>podman rm -f</c>, tolerant of a container that is already gone (tests call it in <c>finally</c>).</summary>
    public void Remove(PodmanContainer container) => Podman("rm", "-f", "-i", "-t", "0", container.Name).EnsureSuccess();

    public void Dispose()
    {
        Bed.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// The fwmark object a user appends (docs/routing.md): mark "gw" = 0x888 under mask 0xfff (the seed's value;
    /// the mask leaves portmap's 0x2000 bit alone) with a route through the VPN uplink to the separate gateway,
    /// and — for the whole-network case — <c>defaultMark</c>.
    /// </summary>
    protected JsonObject Fwmark(bool defaultMark)
    {
        var plugin = new JsonObject
        {
            ["type"] = "fwmark",
            ["marks"] = new JsonObject { [MarkName] = new JsonObject { ["mark"] = "0x888", ["mask"] = "0xfff", ["route"] = FwmarkRouteConfig.VpnRoute(Bed, Table) } },
        };
        if (defaultMark)
        {
            plugin["defaultMark"] = MarkName;
        }

        return plugin;
    }

    /// <summary>
    /// <c>podman network create</c> with subnets inside the testbed's pod range (the gateways route it back to the
    /// node); then, when <paramref name="fwmark"/> is given, the user's edit of the conflist podman wrote: no
    /// masquerade on the bridge (containers keep their own source address up to the gateway) and the plugin
    /// appended. Also moved: host-local's state, into this run's dir instead of the machine's /var/lib/cni.
    /// </summary>
    private void CreateNetwork(string name, int index, JsonObject? fwmark)
    {
        CreateBareNetwork(name, index);
        var file = Path.Combine(_paths.NetworkConfigDir, $"{name}.conflist");
        var conflist = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        var plugins = conflist["plugins"]!.AsArray();
        var bridge = plugins[0]!.AsObject();
        bridge["ipam"]!["dataDir"] = _paths.Ipam;
        if (fwmark is not null)
        {
            bridge["ipMasq"] = false;
            plugins.Add(fwmark);
        }

        File.WriteAllText(file, conflist.ToJsonString());
    }

    /// <summary><c>podman network create</c> with subnets inside the testbed's pod range, nothing edited.</summary>
    protected void CreateBareNetwork(string name, int index)
    {
        Podman("network", "create", "--disable-dns",
            "--subnet", Testbed.Topology.Addresses.PodSubnetV4(index),
            "--subnet", Testbed.Topology.Addresses.PodSubnetV6(index),
            name).EnsureSuccess();
        lock (_networks)
        {
            _networks.Add(name);
        }
    }

    private void RemoveEverything()
    {
        Podman("rm", "-a", "-f", "-t", "0");
        lock (_networks)
        {
            foreach (var network in _networks)
            {
                Podman("network", "rm", "-f", network);
            }
        }

        lock (_netnsPaths)
        {
            foreach (var path in _netnsPaths)
            {
                RuntimeNetns.RemoveLeftover(path);
            }
        }

        // DEL removes a container's cached result; after a failure this removes what this run's containers left.
        lock (_containerIds)
        {
            foreach (var id in _containerIds)
            {
                foreach (var file in Directory.Exists(CniResultCache) ? Directory.GetFiles(CniResultCache, $"*-{id}-*") : [])
                {
                    File.Delete(file);
                }
            }
        }
    }
}
