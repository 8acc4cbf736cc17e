using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Topology;

namespace Fwmark.Testbed.Cni;

/// <summary>
/// One CNI network on the node: a conflist of the real bridge (with host-local IPAM, dual-stack, pods
/// routed through the bridge, no masquerade on the node) optionally followed by the fwmark plugin.
/// </summary>
public sealed class PodNetwork
{
    private readonly NodeTestbed _bed;

    private PodNetwork(NodeTestbed bed, CniChain chain, string bridge)
    {
        _bed = bed;
        Chain = chain;
        Bridge = bridge;
    }

    public CniChain Chain { get; }

    public string Name => Chain.NetworkName;

    public string Bridge { get; }

    /// <summary>
    /// Builds network number <paramref name="index"/> (0..99: subnets 10.88.N.0/24 and 2001:db8:88:N::/64,
    /// bridge "fwe-RUNID bN"); <paramref name="fwmark"/> null gives a chain without the plugin. <paramref name="subnet"/>
    /// gives it another network's subnets instead: two networks with overlapping ranges (two Multus networks with the
    /// same host-local range), whose first pods get the same addresses.
    /// </summary>
    public static PodNetwork Create(NodeTestbed bed, string binDir, string name, int index, JsonObject? fwmark, string cniVersion = "1.0.0", int? subnet = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, 99);
        var bridge = bed.IfName($"b{index}");
        var plugins = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "bridge",
                ["bridge"] = bridge,
                ["isGateway"] = true,
                ["ipMasq"] = false,
                ["ipam"] = new JsonObject
                {
                    ["type"] = "host-local",
                    // Never the host's /var/lib/cni: IPAM state belongs to this run.
                    ["dataDir"] = Path.Combine(bed.WorkDir, "ipam"),
                    ["ranges"] = new JsonArray
                    {
                        new JsonArray { new JsonObject { ["subnet"] = Addresses.PodSubnetV4(subnet ?? index) } },
                        new JsonArray { new JsonObject { ["subnet"] = Addresses.PodSubnetV6(subnet ?? index) } },
                    },
                    ["routes"] = new JsonArray
                    {
                        new JsonObject { ["dst"] = "0.0.0.0/0" },
                        new JsonObject { ["dst"] = "::/0" },
                    },
                },
            },
        };
        if (fwmark is not null)
        {
            plugins.Add(fwmark.DeepClone());
        }

        var conflist = new JsonObject { ["cniVersion"] = cniVersion, ["name"] = name, ["plugins"] = plugins };
        return new PodNetwork(bed, new CniChain(bed.Node, conflist.ToJsonString(), [binDir]), bridge);
    }

    /// <summary>
    /// Creates the pod's namespace and describes its attachment; no ADD yet. <paramref name="cniArgs"/> null gives
    /// the CNI_ARGS containerd sends (<see cref="KubernetesArgs"/>, namespace "default").
    /// </summary>
    public Pod NewPod(string shortName, IReadOnlyDictionary<string, JsonNode?>? capabilityArgs = null, string? cniArgs = null)
    {
        var netns = _bed.CreatePodNetns(shortName);
        var containerId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var attachment = new CniAttachment(containerId, netns.Path)
        {
            CniArgs = cniArgs ?? KubernetesArgs(shortName, containerId, "default"),
            CapabilityArgs = capabilityArgs ?? new Dictionary<string, JsonNode?>(),
        };
        return new Pod(shortName, netns, attachment);
    }

    /// <summary>CNI_ARGS as containerd's CRI builds them for a pod sandbox.</summary>
    public static string KubernetesArgs(string podName, string containerId, string k8sNamespace) =>
        $"IgnoreUnknown=1;K8S_POD_NAMESPACE={k8sNamespace};K8S_POD_NAME={podName};K8S_POD_INFRA_CONTAINER_ID={containerId};K8S_POD_UID=uid-{podName}";

    /// <summary>CNI_ARGS as podman's CNI backend builds them, plus whatever the caller had in its CNI_ARGS.</summary>
    public static string PodmanArgs(string containerName, string? callerArgs = null) =>
        $"IgnoreUnknown=1;K8S_POD_NAME={containerName}" + (string.IsNullOrEmpty(callerArgs) ? "" : ";" + callerArgs);

    /// <summary>Runs the chain's ADD for the pod; records the result on success.</summary>
    public CniChainResult Add(Pod pod)
    {
        var result = Chain.RunAdd(pod.Attachment);
        if (result.Succeeded)
        {
            pod.AddResult = result.Result;
        }

        return result;
    }

    /// <summary><see cref="NewPod"/> + <see cref="Add"/>, throwing with every step's output if ADD fails.</summary>
    public Pod AddPod(string shortName, IReadOnlyDictionary<string, JsonNode?>? capabilityArgs = null, string? cniArgs = null)
    {
        var pod = NewPod(shortName, capabilityArgs, cniArgs);
        Add(pod).EnsureSuccess();
        return pod;
    }

    /// <summary>DEL through the chain with the cached ADD result (or without any prevResult).</summary>
    public CniChainResult Del(Pod pod, bool withPrevResult = true) =>
        Chain.RunDel(pod.Attachment, withPrevResult ? pod.AddResult : null);
}
