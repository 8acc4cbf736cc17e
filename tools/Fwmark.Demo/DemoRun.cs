using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.Demo;

/// <summary>
/// The seed's Kubernetes case on a throwaway node: bridge + host-local + fwmark, one pod annotated
/// <c>cni.fwmark.net/name: vpn</c> and one plain pod, where the server saw each pod's connections come from,
/// then the promise itself: with the VPN gone the annotated pod's traffic is dropped (not one packet at the main
/// gateway), and once the VPN is back (and `fwmark reconcile` ran, as its up-hook would) it flows again.
/// </summary>
internal sealed class DemoRun(DemoOptions options, TextWriter output)
{
    private const int Table = 100;

    public bool Execute()
    {
        Say("building a throwaway node in network namespaces (nothing touches this machine's own network):");
        var clock = Stopwatch.StartNew();
        Step("namespaces node, main gateway, VPN gateway, inet; uplinks; echo server");
        using var bed = NodeTestbed.Create(options.RunId);
        Done(clock);

        // No ip rule typed by hand: the plugin makes the node's policy routing from "route" on the first ADD.
        Step("CNI bin dir (bridge, host-local, fwmark) and the conflist");
        var fwmark = FwmarkPluginConfig.Vpn();
        fwmark["marks"]!["vpn"]!["route"] = new JsonObject
        {
            ["table"] = Table,
            ["gateway"] = new JsonArray(Addresses.VpnGwInnerV4.ToString(), Addresses.VpnGwInnerV6.ToString()),
            ["device"] = bed.NodeVpnLink,
        };
        var log = Path.Combine(bed.WorkDir, "fwmark.log");
        fwmark["logFile"] = log;
        var binDir = CniBinDir.Create(bed, options.FwmarkPath);
        var network = PodNetwork.Create(bed, binDir, "demo", 0, fwmark);
        var confDir = CniConfDir.Create(bed);
        confDir.Add(network.Chain);
        Done(clock);

        var pods = new[]
        {
            (Pod: network.NewPod("vpn-pod", FwmarkPluginConfig.Annotated("vpn")), Label: "annotated cni.fwmark.net/name=vpn", Expected: EgressPath.Vpn),
            (Pod: network.NewPod("plain-pod"), Label: "no annotation", Expected: EgressPath.Main),
        };
        foreach (var (pod, _, _) in pods)
        {
            Step($"CNI ADD {pod.Name} (bridge, host-local, fwmark)");
            var add = network.Add(pod);
            if (!add.Succeeded)
            {
                Say($"failed:\n{add.Describe()}");
                return false;
            }

            Done(clock);
        }

        var (vpnPod, plainPod) = (pods[0].Pod, pods[1].Pod);
        Say("");
        Sketch(bed, vpnPod.Addresses, plainPod.Addresses);
        Say($"chain: bridge (host-local, dual-stack) -> fwmark {fwmark.ToJsonString()}");
        Say("");

        var ok = true;
        foreach (var (pod, label, expected) in pods)
        {
            Say($"{pod.Name} ({label}): {string.Join(", ", pod.Addresses)}");
            foreach (var family in Families)
            {
                ok &= ShowPath(bed, pod, family, expected);
            }
        }

        ok &= KillSwitch(bed, vpnPod, plainPod, confDir.Path);

        Say("");
        Say($"policy routing the plugin made (in {bed.Node}), IPv4 and IPv6:");
        foreach (var family in new[] { "-4", "-6" })
        {
            Say($"$ ip {family} rule");
            output.Write(bed.Node.Run("ip", family, "rule").Stdout);
            Say($"$ ip {family} route show table {Table}");
            output.Write(bed.Node.Run("ip", family, "route", "show", "table", $"{Table}").Stdout);
        }

        Say($"$ nft list table inet fwmark; nft list table bridge fwmark");
        output.Write(NftOracle.TableText(bed.Node));
        Say($"the plugin's log ({Path.GetFileName(log)}, one JSON line per invocation; first one):");
        Say(File.ReadLines(log).First());

        foreach (var (pod, _, _) in pods)
        {
            var del = network.Del(pod);
            ok &= del.Succeeded;
            if (!del.Succeeded)
            {
                Say($"DEL {pod.Name} failed:\n{del.Describe()}");
            }
        }

        var left = NftOracle.Elements(bed.Node).Count + NftOracle.InterfaceElements(bed.Node).Count;
        Say($"after DEL of both pods: {left} element(s) left in the pod sets");
        ok &= left == 0;
        Say(ok ? "result: traffic took the expected paths, and the kill switch held" : "result: FAILED, see above");
        return ok;
    }

    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    /// <summary>VPN down: the annotated pod is cut off and nothing of it reaches the main gateway; VPN back: it flows again.</summary>
    private bool KillSwitch(NodeTestbed bed, Pod vpnPod, Pod plainPod, string confDir)
    {
        var ok = true;
        foreach (var address in vpnPod.Addresses)
        {
            bed.Main.Watch(address);
        }

        Say("");
        Say($"the VPN goes away: ip link set {bed.NodeVpnLink} down (the kernel flushes every route through it)");
        VpnUplink.SetDown(bed);
        foreach (var family in Families)
        {
            var address = Of(vpnPod, family);
            var reply = EchoClient.Ask(vpnPod.Netns, Server(family), bed.Server.Port, TimeSpan.FromSeconds(2));
            var atMain = bed.Main.PacketsFrom(address);
            var dropped = reply.Observed is null && atMain == 0;
            Say($"  {vpnPod.Name} {Name(family)}: {(reply.Observed is null ? $"no connection ({reply.Elapsed.TotalSeconds:0.0} s)" : $"server saw {reply.Observed}")}; packets from {address} at the main gateway: {atMain} ({(dropped ? "ok: dropped, not leaked" : "LEAKED")})");
            ok &= dropped;
        }

        ok &= ShowPath(bed, plainPod, AddressFamily.InterNetwork, EgressPath.Main, indent: "  ", label: $"{plainPod.Name} (unmarked, unaffected)");

        Say($"the VPN comes back: ip link set {bed.NodeVpnLink} up, then its up-hook runs fwmark reconcile --conf-dir {confDir}");
        VpnUplink.BringUp(bed);
        var reconcile = FwmarkCli.Reconcile(bed.Node, options.FwmarkPath, confDir);
        foreach (var line in reconcile.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Say($"  reconcile: {line[(line.IndexOf("): ", StringComparison.Ordinal) + 3)..]}");
        }

        ok &= reconcile.Succeeded;
        foreach (var family in Families)
        {
            ok &= ShowPath(bed, vpnPod, family, EgressPath.Vpn, indent: "  ", label: vpnPod.Name);
        }

        var leaked = vpnPod.Addresses.Sum(bed.Main.PacketsFrom);
        Say($"  packets from {vpnPod.Name} at the main gateway, all along: {leaked}");
        return ok && leaked == 0;
    }

    private bool ShowPath(NodeTestbed bed, Pod pod, AddressFamily family, EgressPath expected, string indent = "  ", string? label = null)
    {
        var reply = bed.Ask(pod.Netns, family);
        var path = bed.PathOf(reply.Observed);
        var verdict = path == expected ? "ok" : $"WRONG, expected {Describe(expected)}";
        var who = label is null ? "" : $"{label} ";
        Say($"{indent}{who}{Name(family)}: server saw {reply.Observed?.ToString() ?? "no connection"} -> {Describe(path)} ({verdict})");
        return path == expected;
    }

    private void Sketch(NodeTestbed bed, IReadOnlyList<IPAddress> vpnPod, IReadOnlyList<IPAddress> plainPod)
    {
        string Pod(string name, IReadOnlyList<IPAddress> a) => $"{name} {string.Join(" ", a)}";
        var top = Pod("vpn-pod  ", vpnPod);
        var bottom = Pod("plain-pod", plainPod);
        var width = Math.Max(top.Length, bottom.Length);
        Say("what was built:");
        Say($"  {top.PadRight(width)} ─┐                 ┌─ {bed.NodeMainLink} ── main gw {Addresses.MainGwInnerV4} ── NAT {Addresses.MainGwOuterV4} ─┐");
        Say($"  {"".PadRight(width)}  ├─ bridge ── node ┤   (main table: default route)                      ├─ inet: server {Addresses.ServerV4}");
        Say($"  {bottom.PadRight(width)} ─┘   (fwmark)      └─ {bed.NodeVpnLink} ── VPN gw  {Addresses.VpnGwInnerV4} ── NAT {Addresses.VpnGwOuterV4} ──┘        {Addresses.ServerV6}");
        Say($"  {"".PadRight(width)}                        (mark 0x10 -> ip rule -> table {Table}: default via VPN, else unreachable)");
        Say($"  the server answers each connection with the source address it saw: that names the gateway.");
    }

    private static IPAddress Of(Pod pod, AddressFamily family) => family == AddressFamily.InterNetworkV6 ? pod.IPv6 : pod.IPv4;

    private static IPAddress Server(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? Addresses.ServerV6 : Addresses.ServerV4;

    private static string Name(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    private static string Describe(EgressPath path) => path switch
    {
        EgressPath.Vpn => "VPN gateway",
        EgressPath.Main => "main gateway",
        _ => "unknown path",
    };

    private void Step(string what)
    {
        output.Write($"  ... {what}");
        output.Flush();
    }

    private void Done(Stopwatch clock)
    {
        output.WriteLine($" (done, {clock.Elapsed.TotalSeconds:0.0} s)");
        output.Flush();
        clock.Restart();
    }

    private void Say(string line) => output.WriteLine(line);
}
