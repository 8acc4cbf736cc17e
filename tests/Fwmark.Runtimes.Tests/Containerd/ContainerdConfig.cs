using System.Text.Json.Nodes;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Topology;

namespace Fwmark.Runtimes.Tests.Containerd;

/// <summary>
/// The files a node operator writes for containerd 1.6's CRI plugin, all pointing into this run's own dir: the
/// daemon config (own root, state, sockets, runc root, CNI dirs) and the network's conflist.
/// </summary>
internal static class ContainerdConfig
{
    /// <summary>
    /// Config version 2. <c>restrict_oom_score_adj</c>: in this VM runc cannot lower the OOM score and fails
    /// with "can't get final child's PID" without it. <c>max_conf_num = 1</c>: containerd uses the first conflist.
    /// The runc <c>Root</c> keeps container state out of the machine's /run/containerd/runc.
    /// </summary>
    public static string Toml(ContainerdPaths paths, string binDir, string pauseImage) => $$"""
        version = 2
        root = "{{paths.Root}}"
        state = "{{paths.State}}"

        [grpc]
          address = "{{paths.Socket}}"

        [ttrpc]
          address = "{{paths.Socket}}.ttrpc"

        [plugins."io.containerd.internal.v1.opt"]
          path = "{{paths.Opt}}"

        [plugins."io.containerd.grpc.v1.cri"]
          sandbox_image = "{{pauseImage}}"
          restrict_oom_score_adj = true
          [plugins."io.containerd.grpc.v1.cri".cni]
            bin_dir = "{{binDir}}"
            conf_dir = "{{paths.ConfDir}}"
            max_conf_num = 1
          [plugins."io.containerd.grpc.v1.cri".containerd]
            snapshotter = "overlayfs"
            default_runtime_name = "runc"
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
              runtime_type = "io.containerd.runc.v2"
              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                Root = "{{paths.RuncRoot}}"

        """;

    /// <summary>
    /// What a cluster with a bridge CNI would have, plus the plugin: <c>bridge</c> + <c>host-local</c> (IPv4 and
    /// IPv6, no masquerade on the node), <c>portmap</c>, and (unless <paramref name="chainFwmark"/> is false) <c>fwmark</c> with the pod-annotations capability,
    /// mark "vpn" routed through the VPN uplink in <paramref name="table"/>, and namespace "secure" → "vpn".
    /// </summary>
    public static JsonObject Conflist(NodeTestbed bed, ContainerdPaths paths, string name, uint table, int subnetIndex, bool chainFwmark = true)
    {
        var conflist = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = name,
            ["plugins"] = new JsonArray
            {
                new JsonObject
                {
                    ["type"] = "bridge",
                    ["bridge"] = bed.IfName("cb"),
                    ["isGateway"] = true,
                    ["ipMasq"] = false,
                    ["ipam"] = new JsonObject
                    {
                        ["type"] = "host-local",
                        ["dataDir"] = paths.Ipam,
                        ["ranges"] = new JsonArray
                        {
                            new JsonArray { new JsonObject { ["subnet"] = Addresses.PodSubnetV4(subnetIndex) } },
                            new JsonArray { new JsonObject { ["subnet"] = Addresses.PodSubnetV6(subnetIndex) } },
                        },
                        ["routes"] = new JsonArray { new JsonObject { ["dst"] = "0.0.0.0/0" }, new JsonObject { ["dst"] = "::/0" } },
                    },
                },
                new JsonObject { ["type"] = "portmap", ["capabilities"] = new JsonObject { ["portMappings"] = true } },
            },
        };
        if (chainFwmark)
        {
            conflist["plugins"]!.AsArray().Add(FwmarkKeys(bed, table));
        }

        return conflist;
    }

    /// <summary>The fwmark element the tests chain (and <c>fwmark install --config</c> gets, minus type and capabilities).</summary>
    public static JsonObject FwmarkKeys(NodeTestbed bed, uint table)
    {
        var fwmark = FwmarkRouteConfig.Vpn(bed, table);
        fwmark["namespaces"] = new JsonObject { ["secure"] = "vpn" };
        return fwmark;
    }
}

/// <summary>Where one containerd of a test run keeps everything (one dir, removed with the run).</summary>
internal sealed record ContainerdPaths(string Dir)
{
    public string Root => Path.Combine(Dir, "root");

    public string State => Path.Combine(Dir, "state");

    public string Opt => Path.Combine(Dir, "opt");

    public string RuncRoot => Path.Combine(State, "runc");

    public string ConfDir => Path.Combine(Dir, "net.d");

    public string Ipam => Path.Combine(Dir, "ipam");

    public string Socket => Path.Combine(Dir, "containerd.sock");

    public string ConfigFile => Path.Combine(Dir, "config.toml");

    public string PauseArchive => Path.Combine(Dir, "pause.tar");
}
