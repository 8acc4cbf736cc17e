namespace Fwmark.Testbed.Topology;

/// <summary>Which uplink a connection left the node through, as judged by the address the server saw.</summary>
public enum EgressPath
{
    Unknown,
    Main,
    Vpn,
}
