using Fwmark.Cni;

namespace Fwmark.Core.Paths;

/// <summary>
/// Decides from prevResult and the kernel which key marks an attachment (docs/paths.md):
/// <list type="bullet">
/// <item>prevResult lists no host-side interface (entries without "sandbox"), or none of them is a veth:
/// keyed by <b>address</b> (macvlan, ipvlan, plugins that report only the pod's side). Documented fallback.</item>
/// <item>a host-side veth whose other end is the pod's interface, enslaved to a bridge: <b>bridge port</b>.</item>
/// <item>the same veth without a master (ptp, Calico-style routing): <b>input interface</b>.</item>
/// <item>the same veth enslaved to something that is not a bridge (OVS, VRF, bond): the bridge family does
/// not see its frames, so keyed by <b>address</b>, with that reason in the log.</item>
/// </list>
/// Anything inconsistent (an interface prevResult names is not in the kernel, or none of the host veths is
/// the pod interface's peer) fails with <see cref="FwmarkErrorCodes.PathUnknown"/>: guessing would either mark
/// another pod's traffic or leave this pod's unmarked.
/// </summary>
public static class PathResolver
{
    public const string VethKind = "veth";

    public const string BridgeKind = "bridge";

    public static AttachmentPath Resolve(CniResult prevResult, string ifName, string? netnsPath, IHostLinks links)
    {
        var hostSide = HostSideNames(prevResult);
        if (hostSide.Count == 0)
        {
            return AttachmentPath.ByAddress("prevResult lists no host-side interface (macvlan, ipvlan, or a plugin that reports only the pod's side)");
        }

        var veths = new List<HostLink>();
        var others = new List<string>();
        foreach (var name in hostSide)
        {
            var link = links.Find(name) ?? throw Unknown(ifName,
                $"prevResult lists host-side interface {name}, which does not exist in the plugin's network namespace",
                "the main plugin's result does not describe this node; refusing to guess which interface carries the pod's packets");
            if (link.Kind == VethKind)
            {
                veths.Add(link);
            }
            else
            {
                others.Add($"{name} ({link.Kind ?? "no kind"})");
            }
        }

        if (veths.Count == 0)
        {
            return AttachmentPath.ByAddress($"prevResult's host-side interfaces are not veths: {string.Join(", ", others)}");
        }

        if (string.IsNullOrEmpty(netnsPath))
        {
            throw Unknown(ifName, "CNI_NETNS is not set, so the pod's end of the veth cannot be confirmed", null);
        }

        var pod = links.FindInPod(netnsPath, ifName) ?? throw Unknown(ifName,
            $"interface {ifName} does not exist in the pod's network namespace {netnsPath}", null);
        var peers = veths.Where(v => pod.Kind == VethKind && v.Index == pod.PeerIndex && v.PeerIndex == pod.Index).ToList();
        if (peers.Count != 1)
        {
            throw Unknown(ifName,
                $"none of prevResult's host-side veths ({string.Join(", ", veths.Select(v => $"{v.Name} index {v.Index}"))}) is the peer of {ifName} in the pod ({pod.Kind ?? "no kind"}, peer index {pod.PeerIndex?.ToString() ?? "none"})",
                "marking the wrong interface would steer another pod's traffic; refusing to guess");
        }

        var host = peers[0];
        return host.Master switch
        {
            null => new AttachmentPath(MarkKeying.InputInterface, host.Name, $"host veth {host.Name} has no master: the pod is routed"),
            { Kind: BridgeKind } bridge => new AttachmentPath(MarkKeying.BridgePort, host.Name, $"host veth {host.Name} is a port of bridge {bridge.Name}"),
            var master => AttachmentPath.ByAddress($"host veth {host.Name} is enslaved to {master.Kind ?? "an interface"} {master.Name}, whose frames the bridge family does not see"),
        };
    }

    /// <summary>The names of prevResult's interfaces without a sandbox: the host side of the attachment.</summary>
    public static IReadOnlyList<string> HostSideNames(CniResult? prevResult) =>
        prevResult is null ? [] : [.. prevResult.Interfaces.Where(i => string.IsNullOrEmpty(i.Sandbox) && i.Name.Length > 0).Select(i => i.Name).Distinct()];

    private static CniException Unknown(string ifName, string why, string? details) =>
        new(FwmarkErrorCodes.PathUnknown, $"failed to find the host side of {ifName}: {why}", details);
}
