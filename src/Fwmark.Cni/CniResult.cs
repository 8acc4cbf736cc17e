using System.Net;
using System.Text.Json.Nodes;

namespace Fwmark.Cni;

/// <summary>
/// A CNI result (a chained plugin's prevResult). Kept as JSON so that fields this plugin does not know
/// survive the pass-through; typed views expose what the plugin needs.
/// <see cref="Parse"/> accepts every supported version's format; <see cref="ToJson"/> converts to the
/// requested version's format (ips[].version below 1.0.0, absent from 1.0.0, 1.1.0-only fields dropped
/// below 1.1.0).
/// </summary>
public sealed partial class CniResult
{
    /// <summary>A detached copy of the parsed JSON; never handed out, so nobody can change it under us.</summary>
    private readonly JsonObject json;

    private CniResult(JsonObject json, string cniVersion)
    {
        this.json = json;
        CniVersion = cniVersion;
    }

    /// <summary>The result's own "cniVersion", or the config's version when it carried none.</summary>
    public string CniVersion { get; }

    /// <summary>Interfaces in result order ("interfaces"); empty when absent.</summary>
    public IReadOnlyList<CniInterface> Interfaces { get; private init; } = [];

    /// <summary>IP configs in result order ("ips").</summary>
    public IReadOnlyList<CniIpConfig> Ips { get; private init; } = [];

    /// <summary>A result with no interfaces and no IPs (what ADD prints when there was no prevResult).</summary>
    internal static CniResult Empty { get; } = new([], CniVersions.Latest);

    /// <summary>
    /// The addresses that belong to the container interface <paramref name="ifName"/>: IPs whose
    /// "interface" index points at an interface of that name, and IPs that name no interface at all.
    /// </summary>
    public IReadOnlyList<IPAddress> AddressesOf(string ifName)
    {
        // An IP that names no interface could be the container's: count it in. Marking an address too
        // many is harmless; leaving one of the pod's addresses unmarked would leak its traffic.
        return Ips
            .Where(ip => ip.InterfaceIndex is not { } index || (index < Interfaces.Count && Interfaces[index].Name == ifName))
            // "::ffff:10.88.0.6" is the pod's IPv4 address written as IPv6: its packets are IPv4 and carry the
            // 4-byte source, so it must be keyed (and compared) as IPv4.
            .Select(ip => ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address)
            .Distinct()
            .ToList();
    }
}

public sealed record CniInterface(string Name, string? Mac, string? Sandbox);

public sealed record CniIpConfig(IPAddress Address, int PrefixLength, int? InterfaceIndex);
