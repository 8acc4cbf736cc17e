using System.Net;

namespace Fwmark.Cni;

/// <summary>
/// A CNI result (a chained plugin's prevResult). Kept as JSON so that fields this plugin does not know
/// survive the pass-through; typed views expose what the plugin needs.
/// CONTRACT (filled in by the protocol layer work): Parse accepts every supported version's format,
/// ToJson converts to the requested version's format (ips[].version below 1.0.0, absent from 1.0.0,
/// 1.1.0-only fields dropped below 1.1.0).
/// </summary>
public sealed partial class CniResult
{
    /// <summary>Interfaces in result order ("interfaces"); empty when absent.</summary>
    public IReadOnlyList<CniInterface> Interfaces { get; private init; } = [];

    /// <summary>IP configs in result order ("ips").</summary>
    public IReadOnlyList<CniIpConfig> Ips { get; private init; } = [];

    /// <summary>
    /// The addresses that belong to the container interface <paramref name="ifName"/>: IPs whose
    /// "interface" index points at an interface of that name, or every IP when no IP names an interface.
    /// </summary>
    public IReadOnlyList<IPAddress> AddressesOf(string ifName) => throw new NotImplementedException();
}

public sealed record CniInterface(string Name, string? Mac, string? Sandbox);

public sealed record CniIpConfig(IPAddress Address, int PrefixLength, int? InterfaceIndex);
