using System.Net;

namespace Fwmark.Core.Routing;

/// <summary>
/// JSON <c>marks.&lt;name&gt;.route</c>, validated: the node-wide policy routing the plugin keeps in place
/// for one mark (docs/routing.md "Configuration"). Built only by <see cref="RouteSpecParser"/>, so the invariants
/// below hold for every instance it returns.
/// </summary>
public sealed record RouteSpec
{
    /// <summary>
    /// Before Tailscale (5210-5270) and wg-quick's unprefixed rules (~32764), whose catch-all rules
    /// would otherwise take marked traffic first; after Cilium (9, 10, and 100 where it moves the
    /// local-table rule) and Calico (99), so local delivery and their own marks keep precedence.
    /// </summary>
    public const uint DefaultPriority = 1000;

    /// <summary>The main table's rule sits at 32766; both of our rules (P and P+1) must come first.</summary>
    public const uint MaxPriority = 32764;

    /// <summary>
    /// JSON <c>table</c>: the routing table that holds the mark's default route. Required;
    /// 1..4294967295 except 253 (default), 254 (main) and 255 (local).
    /// </summary>
    public required uint Table { get; init; }

    /// <summary>JSON <c>gateway</c> (the IPv4 one): next hop of the IPv4 default route in <see cref="Table"/>. Default none.</summary>
    public IPAddress? Gateway4 { get; init; }

    /// <summary>
    /// JSON <c>gateway</c> (the IPv6 one). Default none. A link-local address comes with <see cref="Device"/>,
    /// which the kernel needs to know which link it is on.
    /// </summary>
    public IPAddress? Gateway6 { get; init; }

    /// <summary>
    /// JSON <c>device</c>: interface name (1-15 bytes, no '/', ':' or whitespace). Default none. With a
    /// gateway it pins the link; with no gateway at all it gives <c>default dev DEVICE</c> in both
    /// families (point-to-point tunnels).
    /// </summary>
    public string? Device { get; init; }

    /// <summary>
    /// JSON <c>priority</c>: rule preference P; the rules sit at P and P+1. Default
    /// <see cref="DefaultPriority"/>; 1..<see cref="MaxPriority"/>.
    /// </summary>
    public uint Priority { get; init; } = DefaultPriority;

    /// <summary>
    /// JSON <c>failClosed</c>: keep <c>unreachable default metric 4294967295</c> in <see cref="Table"/>
    /// for both families, so marked traffic is dropped rather than leaked through the main table when the
    /// gateway route is gone. Default true.
    /// </summary>
    public bool FailClosed { get; init; } = true;

    /// <summary>The next hop of <paramref name="ipv6"/>'s family, or null.</summary>
    public IPAddress? GatewayFor(bool ipv6) => ipv6 ? Gateway6 : Gateway4;

    /// <summary>
    /// Whether a family gets a real default route in <see cref="Table"/>: with its own gateway, or
    /// with only a device when no gateway is configured at all. A family left out when the other one
    /// has a gateway gets only the fail-closed route: "default dev eth1" on a multi-access link would
    /// send that family's traffic on-link to a router that was never named.
    /// </summary>
    public bool HasDefaultRoute(bool ipv6) =>
        GatewayFor(ipv6) is not null || (Device is not null && Gateway4 is null && Gateway6 is null);
}
