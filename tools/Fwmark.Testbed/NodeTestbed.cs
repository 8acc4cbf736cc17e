using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Fwmark.Testbed.Cleanup;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Topology;

namespace Fwmark.Testbed;

/// <summary>
/// A node with two uplinks (main gateway, VPN gateway) toward an "internet" namespace running the echo
/// server; see <see cref="Addresses"/> for the plan. Everything lives in namespaces named
/// <c>fwe-RUNID-ROLE</c> and interfaces named <c>fwe-RUNID…</c>, all removed by <see cref="Dispose"/>.
/// </summary>
public sealed class NodeTestbed : IDisposable
{
    public const string NamePrefix = "fwe-";

    /// <summary>The plugin's override of its state directory (src/Fwmark/StatePaths.cs).</summary>
    public const string StateDirVariable = Netns.StateDirVariable;

    private NodeTestbed(string runId, CleanupStack cleanup)
    {
        RunId = runId;
        Cleanup = cleanup;
        WorkDir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{Prefix}work");
        Directory.CreateDirectory(WorkDir);
        cleanup.Push($"work dir {WorkDir}", () => Directory.Delete(WorkDir, recursive: true));

        // Its own state dir (Netns.Create gives every namespace one): never the machine's /run/fwmark.
        Node = NewNetns("node");
        var mainNs = NewNetns("main");
        var vpnNs = NewNetns("vpn");
        Inet = NewNetns("inet");
        Main = new Gateway(EgressPath.Main, mainNs, IfName("m1"), Addresses.MainGwOuterV4, Addresses.MainGwOuterV6);
        Vpn = new Gateway(EgressPath.Vpn, vpnNs, IfName("v1"), Addresses.VpnGwOuterV4, Addresses.VpnGwOuterV6);
        Wire();
        Server = EchoServer.Start(Inet, cleanup, EchoServer.DefaultPort, Addresses.ServerV4, Addresses.ServerV6);
    }

    /// <summary>Random per run; makes every namespace and interface name unique.</summary>
    public string RunId { get; }

    /// <summary>"fwe-RUNID": the start of every namespace and interface name of this run (10 chars).</summary>
    public string Prefix => $"{NamePrefix}{RunId}";

    public CleanupStack Cleanup { get; }

    /// <summary>A scratch directory for this run (plugin bin dir, IPAM state), removed with the testbed.</summary>
    public string WorkDir { get; }

    /// <summary>The plugin's state directory of this run (FWMARK_RUN_DIR of every command in <see cref="Node"/>).</summary>
    public string StateDir => Node.Environment[StateDirVariable]!;

    /// <summary>Where the plugin keeps its records in this run (docs/records.md).</summary>
    public string RecordsDir => System.IO.Path.Combine(StateDir, "attachments");

    /// <summary>The node's (runtime's) namespace: where the CNI plugins and the plugin's nftables table live.</summary>
    public Netns Node { get; }

    public Gateway Main { get; }

    public Gateway Vpn { get; }

    public Netns Inet { get; }

    public EchoServer Server { get; }

    /// <summary>The node's uplink toward the main gateway.</summary>
    public string NodeMainLink => IfName("m0");

    /// <summary>The node's uplink toward the VPN gateway.</summary>
    public string NodeVpnLink => IfName("v0");

    public static NodeTestbed Create(string? runId = null)
    {
        var cleanup = new CleanupStack();
        try
        {
            return new NodeTestbed(runId ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)), cleanup);
        }
        catch
        {
            cleanup.Dispose();
            throw;
        }
    }

    /// <summary>An interface name unique to this run: prefix + suffix, at most 15 characters.</summary>
    public string IfName(string suffix)
    {
        var name = Prefix + suffix;
        return name.Length <= 15 ? name : throw new ArgumentException($"interface name {name} is longer than 15 characters", nameof(suffix));
    }

    /// <summary>
    /// The seed's out-of-band policy routing for a mark: main without its default route first (so local,
    /// pod and LAN routes still win), then table <paramref name="table"/> whose default goes to the VPN gateway.
    /// Both families. Optional: a later plugin feature manages this itself.
    /// </summary>
    public void EnableVpnPolicyRouting(uint mark = 0x10, uint mask = 0x10, int table = 100, int priority = 100)
    {
        var selector = $"0x{mark:x}/0x{mask:x}";
        foreach (var (family, via) in new[] { ("-4", Addresses.VpnGwInnerV4), ("-6", Addresses.VpnGwInnerV6) })
        {
            Node.Ip(family, "rule", "add", "pref", $"{priority}", "fwmark", selector, "lookup", "main", "suppress_prefixlength", "0");
            Node.Ip(family, "rule", "add", "pref", $"{priority + 1}", "fwmark", selector, "lookup", $"{table}");
            Node.Ip(family, "route", "add", "default", "via", via.ToString(), "dev", NodeVpnLink, "table", $"{table}");
        }
    }

    /// <summary>
    /// Lets "inet" reach the pod networks directly (no NAT) through <paramref name="gateway"/>: a client
    /// outside the cluster opening connections toward pods, as with a NodePort or hostPort.
    /// </summary>
    public void RoutePodsFromInetVia(Gateway gateway)
    {
        Inet.Ip("route", "add", Addresses.PodSupernetV4, "via", gateway.OuterV4.ToString());
        Inet.Ip("-6", "route", "add", Addresses.PodSupernetV6, "via", gateway.OuterV6.ToString());
    }

    /// <summary>A fresh namespace for a pod/container (what a runtime creates before calling CNI ADD).</summary>
    public Netns CreatePodNetns(string shortName)
    {
        var netns = NewNetns($"pod-{shortName}");
        netns.Ip("link", "set", "lo", "up");
        return netns;
    }

    /// <summary>One TCP connection from <paramref name="from"/> to the server; the reply names the source it saw.</summary>
    public EchoReply Ask(Netns from, AddressFamily family) =>
        EchoClient.Ask(from, family == AddressFamily.InterNetworkV6 ? Addresses.ServerV6 : Addresses.ServerV4, Server.Port);

    /// <summary>Maps the source address the server saw to the gateway it belongs to.</summary>
    public EgressPath PathOf(IPAddress? observed) =>
        observed is null ? EgressPath.Unknown
        : observed.Equals(Main.OuterV4) || observed.Equals(Main.OuterV6) ? EgressPath.Main
        : observed.Equals(Vpn.OuterV4) || observed.Equals(Vpn.OuterV6) ? EgressPath.Vpn
        : EgressPath.Unknown;

    public void Dispose() => Cleanup.Dispose();

    private Netns NewNetns(string role)
    {
        var netns = Netns.Create($"{Prefix}-{role}", Cleanup);
        netns.DisableDad();
        return netns;
    }

    private void Wire()
    {
        foreach (var router in new[] { Node, Main.Netns, Vpn.Netns, Inet })
        {
            // IPv4 devconf is copied from the host: rp_filter must be off explicitly, or replies of
            // VPN-steered flows (arriving on the VPN uplink, while main's default points elsewhere) are dropped.
            router.Sysctl(
                "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.default.rp_filter=0");
            router.Ip("link", "set", "lo", "up");
        }

        Node.Ip("link", "add", NodeMainLink, "type", "veth", "peer", "name", Main.NodeLink, "netns", Main.Netns.Name);
        Node.Ip("link", "add", NodeVpnLink, "type", "veth", "peer", "name", Vpn.NodeLink, "netns", Vpn.Netns.Name);
        var mainOuter = IfName("i0");
        var vpnOuter = IfName("j0");
        Main.Netns.Ip("link", "add", mainOuter, "type", "veth", "peer", "name", IfName("i1"), "netns", Inet.Name);
        Vpn.Netns.Ip("link", "add", vpnOuter, "type", "veth", "peer", "name", IfName("j1"), "netns", Inet.Name);

        Node.Ip("addr", "add", $"{Addresses.NodeMainV4}/24", "dev", NodeMainLink);
        Node.Ip("addr", "add", $"{Addresses.NodeMainV6}/64", "dev", NodeMainLink, "nodad");
        Node.Ip("addr", "add", $"{Addresses.NodeVpnV4}/24", "dev", NodeVpnLink);
        Node.Ip("addr", "add", $"{Addresses.NodeVpnV6}/64", "dev", NodeVpnLink, "nodad");
        Node.Ip("link", "set", NodeMainLink, "up");
        Node.Ip("link", "set", NodeVpnLink, "up");
        Node.Ip("route", "add", "default", "via", Addresses.MainGwInnerV4.ToString());
        Node.Ip("-6", "route", "add", "default", "via", Addresses.MainGwInnerV6.ToString());

        Main.Configure(
            (Addresses.MainGwInnerV4, Addresses.MainGwInnerV6),
            (Addresses.NodeMainV4, Addresses.NodeMainV6),
            mainOuter,
            (Addresses.InetMainSideV4, Addresses.InetMainSideV6));
        Vpn.Configure(
            (Addresses.VpnGwInnerV4, Addresses.VpnGwInnerV6),
            (Addresses.NodeVpnV4, Addresses.NodeVpnV6),
            vpnOuter,
            (Addresses.InetVpnSideV4, Addresses.InetVpnSideV6));

        Inet.Ip("addr", "add", $"{Addresses.InetMainSideV4}/24", "dev", IfName("i1"));
        Inet.Ip("addr", "add", $"{Addresses.InetMainSideV6}/64", "dev", IfName("i1"), "nodad");
        Inet.Ip("addr", "add", $"{Addresses.InetVpnSideV4}/24", "dev", IfName("j1"));
        Inet.Ip("addr", "add", $"{Addresses.InetVpnSideV6}/64", "dev", IfName("j1"), "nodad");
        Inet.Ip("addr", "add", $"{Addresses.ServerV4}/32", "dev", "lo");
        Inet.Ip("addr", "add", $"{Addresses.ServerV6}/128", "dev", "lo", "nodad");
        Inet.Ip("link", "set", IfName("i1"), "up");
        Inet.Ip("link", "set", IfName("j1"), "up");
        // No default route in inet: a packet that was not masqueraded by a gateway gets no answer.
    }
}
