using System.Net;
using System.Net.Sockets;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;
using Fwmark.Testbed.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>
/// A node whose policy routing comes only from the plugin: <see cref="PluginBed"/> without the testbed's
/// hand-made rules, one network "routed" (bridge + host-local + fwmark) whose mark "vpn" (0x10/0x10) has a
/// <c>route</c> through the node's VPN uplink in table <see cref="Table"/>, and that network's conflist in a
/// conf dir for <c>fwmark reconcile</c>. Nothing here types an <c>ip rule</c> or <c>ip route</c> on the node.
/// </summary>
internal sealed class RoutedBed : IDisposable
{
    public const uint Table = 2184;

    /// <summary>The default <c>priority</c> documented in docs/routing.md ("Why the default priority is 1000").</summary>
    public const uint DocumentedDefaultPriority = 1000;

    public const string NetworkName = "routed";

    /// <summary>
    /// A connect refused by the node (ICMP unreachable) ends at once or after one SYN retransmission (1 s: seen
    /// for IPv6, where the first error does not end the connect); a silent drop would take the 5 s timeout.
    /// </summary>
    public static readonly TimeSpan FastFailure = TimeSpan.FromSeconds(3);

    private RoutedBed(PluginBed plugin, PodNetwork network, CniConfDir confDir, uint priority)
    {
        Plugin = plugin;
        Network = network;
        ConfDir = confDir;
        Priority = priority;
    }

    public PluginBed Plugin { get; }

    public NodeTestbed Bed => Plugin.Bed;

    public Netns Node => Plugin.Node;

    public PodNetwork Network { get; }

    /// <summary>Holds routed.conflist: the conflist the pods were added with.</summary>
    public CniConfDir ConfDir { get; }

    /// <summary>P: the suppress rule's priority; the table rule is P + 1.</summary>
    public uint Priority { get; }

    /// <summary>The plugin copy in the run's CNI bin dir (the same binary the chain execs).</summary>
    public string FwmarkBinary => Path.Combine(Plugin.BinDir, "fwmark");

    /// <summary>
    /// <paramref name="priority"/>, <paramref name="failClosed"/> and <paramref name="connmark"/> go into the config
    /// only when given, so the plugin's defaults are what is tested otherwise.
    /// </summary>
    public static RoutedBed Create(uint? priority = null, bool? failClosed = null, bool? connmark = null)
    {
        var plugin = PluginBed.Create(vpnRouting: false);
        try
        {
            // The node answers every refused packet with ICMP unreachable: by default the kernel sends only a
            // couple per second toward one pod and drops the rest, so a test's third refused connection would
            // look like a timeout although the fail-closed route did its job (leaks are judged by the counters).
            plugin.Node.Sysctl("net.ipv4.icmp_ratelimit=0", "net.ipv6.icmp.ratelimit=0");
            var config = FwmarkRouteConfig.Vpn(plugin.Bed, Table, priority, failClosed, connmark);
            var network = plugin.Network(config, NetworkName);
            var confDir = CniConfDir.Create(plugin.Bed);
            confDir.Add(network.Chain);
            return new RoutedBed(plugin, network, confDir, priority ?? DocumentedDefaultPriority);
        }
        catch
        {
            plugin.Dispose();
            throw;
        }
    }

    /// <summary>A pod annotated with the routed mark (real chain ADD).</summary>
    public Pod AddMarked(string name) => Network.AddPod(name, FwmarkPluginConfig.Annotated("vpn"));

    /// <summary>A pod of the same network without annotation: the plugin leaves it alone.</summary>
    public Pod AddPlain(string name) => Network.AddPod(name);

    /// <summary><c>fwmark reconcile --conf-dir DIR</c> in the node namespace.</summary>
    public CommandResult Reconcile() => FwmarkCli.Reconcile(Node, FwmarkBinary, ConfDir.Path);

    public static IPAddress AddressOf(Pod pod, AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? pod.IPv6 : pod.IPv4;

    public static IPAddress ServerOf(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? Addresses.ServerV6 : Addresses.ServerV4;

    /// <summary>One TCP connection from <paramref name="pod"/> to the internet server.</summary>
    public EchoReply Ask(Pod pod, AddressFamily family, TimeSpan? connectTimeout = null) =>
        EchoClient.Ask(pod.Netns, ServerOf(family), Bed.Server.Port, connectTimeout);

    public void AssertPath(Pod pod, AddressFamily family, EgressPath expected, string when)
    {
        var reply = Ask(pod, family);
        var path = Bed.PathOf(reply.Observed);
        Assert.True(path == expected, $"{when}: expected pod {pod.Name} {family} via {expected} but the server saw "
            + $"{reply.Observed?.ToString() ?? "nothing"} ({path})\n{reply.Raw.Describe()}\n{Diagnostics()}");
    }

    /// <summary>
    /// The kill switch as the pod sees it: its connection is refused by the node at once (ICMP unreachable from
    /// the fail-closed route), neither answered through some other path nor left to time out.
    /// </summary>
    public void AssertRefusedFast(Pod pod, AddressFamily family, string when)
    {
        var reply = Ask(pod, family);
        var evidence = $"{when}: pod {pod.Name} {family}, after {reply.Elapsed.TotalMilliseconds:0} ms\n{reply.Raw.Describe()}\n{Diagnostics()}";
        Assert.False(reply.Connected, $"the connection succeeded (server saw {reply.Observed} = {Bed.PathOf(reply.Observed)})\n{evidence}");
        Assert.True(reply.Elapsed < FastFailure, $"the connection did not fail fast\n{evidence}");
        Assert.True(
            reply.Raw.Stderr.Contains("No route to host", StringComparison.Ordinal)
                || reply.Raw.Stderr.Contains("Network is unreachable", StringComparison.Ordinal),
            $"the connection failed, but not with an unreachable error\n{evidence}");
    }

    /// <summary>The plugin's nft table, the rules of both families and table T: printed with every failure.</summary>
    public string Diagnostics() => Plugin.Diagnostics() + IpRoutingOracle.Describe(Node, Table);

    public void Dispose() => Plugin.Dispose();
}
