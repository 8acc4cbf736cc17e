using System.Diagnostics;
using System.Net;
using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Agent;

/// <summary>
/// <see cref="RoutedBed"/> with one marked pod that sends a steady UDP stream (about 1000 datagrams/s) to
/// the internet server, counted at both gateways, and (optionally) the published <c>fwmark agent</c>
/// running in the node namespace on the bed's conf dir.
/// </summary>
internal sealed class AgentBed : IDisposable
{
    private AgentBed(RoutedBed routed, Pod pod, FwmarkAgent? agent, UdpStream stream)
    {
        Routed = routed;
        Pod = pod;
        Agent = agent;
        Stream = stream;
    }

    public RoutedBed Routed { get; }

    public Pod Pod { get; }

    public FwmarkAgent? Agent { get; }

    public UdpStream Stream { get; }

    public IPAddress PodIp => Pod.IPv4;

    public static AgentBed Create(bool withAgent = true)
    {
        var routed = RoutedBed.Create();
        FwmarkAgent? agent = null;
        UdpStream? stream = null;
        try
        {
            var pod = routed.AddMarked("stream");
            routed.Bed.Main.Watch(pod.IPv4);
            routed.Bed.Vpn.Watch(pod.IPv4);
            agent = withAgent ? FwmarkAgent.Start(routed.Node, routed.FwmarkBinary, routed.ConfDir.Path) : null;
            stream = UdpStream.Start(pod.Netns, Addresses.ServerV4);
            var bed = new AgentBed(routed, pod, agent, stream);
            bed.WaitForVpnPackets(50, TimeSpan.FromSeconds(5), "before any fault");
            return bed;
        }
        catch
        {
            stream?.Dispose();
            agent?.Dispose();
            routed.Dispose();
            throw;
        }
    }

    public long AtMain => Routed.Bed.Main.PacketsFrom(PodIp);

    public long AtVpn => Routed.Bed.Vpn.PacketsFrom(PodIp);

    /// <summary>Waits until <paramref name="more"/> packets beyond the current count reached the VPN gateway; returns how long that took.</summary>
    public TimeSpan WaitForVpnPackets(long more, TimeSpan timeout, string when)
    {
        var start = AtVpn;
        var clock = Stopwatch.StartNew();
        while (AtVpn < start + more)
        {
            Assert.True(clock.Elapsed < timeout, $"{when}: fewer than {more} packets of the stream reached the VPN gateway within {timeout.TotalSeconds} s\n{Diagnostics()}");
            Thread.Sleep(5);
        }

        return clock.Elapsed;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static TimeSpan WaitUntil(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < timeout, what());
            Thread.Sleep(5);
        }

        return clock.Elapsed;
    }

    /// <summary>
    /// The plugin's tables hold the pod's one key and are not dormant: what the agent restores. The pod is a bridge
    /// port (the bed's network is a bridge), so that is both `bridge fwmark` with its port and `inet fwmark`.
    /// </summary>
    public bool PluginTableWhole()
    {
        var inet = Routed.Node.Exec("nft", "list", "table", "inet", NftOracle.Table);
        var bridge = Routed.Node.Exec("nft", "list", "table", "bridge", NftOracle.Table);
        var keys = NftOracle.Keys(Routed.Node);
        return inet.Succeeded && bridge.Succeeded
            && !(inet.Stdout + bridge.Stdout).Contains("dormant", StringComparison.Ordinal)
            && inet.Stdout.Contains("meta mark set meta mark | 0x00000010", StringComparison.Ordinal)
            && bridge.Stdout.Contains("meta mark set meta mark | 0x00000010", StringComparison.Ordinal)
            && keys.Count == 1 && keys[0].IsBridgePort;
    }

    public string Diagnostics() =>
        $"{Routed.Diagnostics()}--- nft list ruleset:\n{Routed.Node.Exec("nft", "list", "ruleset").Stdout}"
        + $"--- agent output:\n{Agent?.Output ?? "(no agent)"}\n--- stream: {Stream.Sent} sent, {AtMain} at main, {AtVpn} at the VPN\n";

    public void Dispose()
    {
        Stream.Dispose();
        Agent?.Dispose();
        Routed.Dispose();
    }
}
