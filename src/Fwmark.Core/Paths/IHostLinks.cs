namespace Fwmark.Core.Paths;

/// <summary>
/// A network interface as the kernel describes it. <see cref="PeerIndex"/> is the ifindex of a veth's
/// other end (IFLA_LINK, an index in the peer's namespace); <see cref="Master"/> is the link this one is
/// enslaved to (a bridge, a VRF, an OVS datapath), with its kind.
/// </summary>
public sealed record HostLink(string Name, int Index, string? Kind, int? PeerIndex, HostLink? Master);

/// <summary>Reads interfaces from the kernel (rtnetlink in production, a table in tests).</summary>
public interface IHostLinks
{
    /// <summary>The interface <paramref name="name"/> in the plugin's (node's) namespace; null when there is none.</summary>
    HostLink? Find(string name);

    /// <summary>The interface <paramref name="name"/> inside the pod's namespace <paramref name="netnsPath"/>; null when there is none.</summary>
    HostLink? FindInPod(string netnsPath, string name);
}
