namespace Fwmark.Testbed.Topology;

/// <summary>
/// What happens to a VPN interface in real life, done to the node's VPN uplink: the client exits and its
/// device vanishes, the device goes down, or someone deletes the route. And the way back, the way a VPN client
/// brings its tunnel up again: device, addresses, up; the far end (the VPN server) routes the pods back again.
/// Nothing here touches policy routing: putting the node's routes back is the plugin's job (reconcile).
/// </summary>
public static class VpnUplink
{
    /// <summary><c>ip link del</c> of the node's VPN uplink; the veth's other end in the VPN gateway goes with it.</summary>
    public static void Delete(NodeTestbed bed) => bed.Node.Ip("link", "del", bed.NodeVpnLink);

    /// <summary>
    /// <c>ip link set down</c>: the kernel flushes every route through the device (both families, every table)
    /// and drops its IPv6 addresses; IPv4 addresses stay.
    /// </summary>
    public static void SetDown(NodeTestbed bed) => bed.Node.Ip("link", "set", bed.NodeVpnLink, "down");

    /// <summary>After <see cref="Delete"/>: a new veth with the same names and addresses on both ends, up.</summary>
    public static void Recreate(NodeTestbed bed)
    {
        var vpn = bed.Vpn;
        bed.Node.Ip("link", "add", bed.NodeVpnLink, "type", "veth", "peer", "name", vpn.NodeLink, "netns", vpn.Netns.Name);
        // The far end comes back with the tunnel: its addresses, and its route to the pods via the node.
        vpn.Netns.Ip("addr", "replace", $"{Addresses.VpnGwInnerV4}/24", "dev", vpn.NodeLink);
        vpn.Netns.Ip("addr", "replace", $"{Addresses.VpnGwInnerV6}/64", "dev", vpn.NodeLink, "nodad");
        vpn.Netns.Ip("link", "set", vpn.NodeLink, "up");
        vpn.Netns.Ip("route", "replace", Addresses.PodSupernetV4, "via", Addresses.NodeVpnV4.ToString());
        vpn.Netns.Ip("-6", "route", "replace", Addresses.PodSupernetV6, "via", Addresses.NodeVpnV6.ToString());
        BringUp(bed);
    }

    /// <summary>
    /// What a VPN client does on (re)connect: (re)address the node's end and set it up. Idempotent
    /// (<c>addr replace</c>), so it serves after <see cref="SetDown"/> and as the last step of <see cref="Recreate"/>.
    /// </summary>
    public static void BringUp(NodeTestbed bed)
    {
        bed.Node.Ip("addr", "replace", $"{Addresses.NodeVpnV4}/24", "dev", bed.NodeVpnLink);
        bed.Node.Ip("addr", "replace", $"{Addresses.NodeVpnV6}/64", "dev", bed.NodeVpnLink, "nodad");
        bed.Node.Ip("link", "set", bed.NodeVpnLink, "up");
    }
}
