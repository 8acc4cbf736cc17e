namespace Fwmark.Core.Paths;

/// <summary>What the marking of one attachment is keyed by.</summary>
public enum MarkKeying
{
    /// <summary>The pod's source addresses from prevResult (no host-side interface to key on: macvlan, ipvlan, ...).</summary>
    Address,

    /// <summary>The pod's host-side veth as a bridge port, in the bridge family's prerouting hook.</summary>
    BridgePort,

    /// <summary>The pod's host-side veth as the packet's input interface, in the inet family's prerouting hook.</summary>
    InputInterface,
}

/// <summary>
/// How one attachment's packets are recognised, and why (<see cref="Reason"/> goes into the log line and
/// CHECK's output). <see cref="HostInterface"/> is the host-side interface name for the two interface
/// keyings, null for <see cref="MarkKeying.Address"/>.
/// </summary>
public sealed record AttachmentPath(MarkKeying Keying, string? HostInterface, string Reason)
{
    public static AttachmentPath ByAddress(string reason) => new(MarkKeying.Address, null, reason);

    /// <summary>"bridge port vethX", "input interface vethX" or "address": the words logs and CHECK use.</summary>
    public string Describe() => Keying switch
    {
        MarkKeying.BridgePort => $"bridge port {HostInterface}",
        MarkKeying.InputInterface => $"input interface {HostInterface}",
        _ => "address",
    };
}

public static class AttachmentPathExtensions
{
    /// <summary>True for the bridge-port and input-interface keyings.</summary>
    public static bool IsInterfaceKeyed(this AttachmentPath path) => path.Keying != MarkKeying.Address;
}
