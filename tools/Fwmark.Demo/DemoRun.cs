using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.Demo;

/// <summary>
/// The seed's Kubernetes case on a throwaway node: bridge + host-local + fwmark, one pod annotated
/// <c>cni.fwmark.net/name: vpn</c> and one plain pod, and where the server saw each pod's connections come from.
/// </summary>
internal sealed class DemoRun(DemoOptions options, TextWriter output)
{
    public bool Execute()
    {
        using var bed = NodeTestbed.Create(options.RunId);
        Say($"node {bed.Node}: uplinks to the main gateway ({Addresses.MainGwOuterV4}) and the VPN gateway ({Addresses.VpnGwOuterV4}),");
        Say($"server {Addresses.ServerV4} / {Addresses.ServerV6} in {bed.Inet}");

        // No ip rule typed by hand: the plugin makes the node's policy routing from "route" on the first ADD.
        var fwmark = FwmarkPluginConfig.Vpn();
        fwmark["marks"]!["vpn"]!["route"] = new JsonObject
        {
            ["table"] = 100,
            ["gateway"] = new JsonArray(Addresses.VpnGwInnerV4.ToString(), Addresses.VpnGwInnerV6.ToString()),
            ["device"] = bed.NodeVpnLink,
        };
        var binDir = CniBinDir.Create(bed, options.FwmarkPath);
        var network = PodNetwork.Create(bed, binDir, "demo", 0, fwmark);
        Say($"chain: bridge (host-local, dual-stack) -> fwmark {fwmark.ToJsonString()}");
        Say("");

        var pods = new[]
        {
            (Pod: network.NewPod("vpn-pod", FwmarkPluginConfig.Annotated("vpn")), Label: "annotated cni.fwmark.net/name=vpn", Expected: EgressPath.Vpn),
            (Pod: network.NewPod("plain-pod"), Label: "no annotation", Expected: EgressPath.Main),
        };
        var ok = true;
        foreach (var (pod, label, expected) in pods)
        {
            var add = network.Add(pod);
            if (!add.Succeeded)
            {
                Say($"ADD {pod.Name} failed:\n{add.Describe()}");
                return false;
            }

            Say($"{pod.Name} ({label}): {string.Join(", ", pod.Addresses)}");
            foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
            {
                var reply = bed.Ask(pod.Netns, family);
                var path = bed.PathOf(reply.Observed);
                var verdict = path == expected ? "ok" : $"WRONG, expected {Describe(expected)}";
                Say($"  {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")}: server saw {reply.Observed?.ToString() ?? "no connection"} -> {Describe(path)} ({verdict})");
                ok &= path == expected;
            }
        }

        Say("");
        Say($"policy routing the plugin made (ip rule; ip route show table 100, in {bed.Node}):");
        output.Write(bed.Node.Run("ip", "rule").Stdout);
        output.Write(bed.Node.Run("ip", "route", "show", "table", "100").Stdout);
        Say($"nft list table inet fwmark; nft list table bridge fwmark (in {bed.Node}):");
        output.Write(FwmarkRuleset.TableText(bed.Node));

        foreach (var (pod, _, _) in pods)
        {
            var del = network.Del(pod);
            ok &= del.Succeeded;
            if (!del.Succeeded)
            {
                Say($"DEL {pod.Name} failed:\n{del.Describe()}");
            }
        }

        var left = FwmarkRuleset.Elements(bed.Node).Count + FwmarkRuleset.InterfaceElements(bed.Node).Count;
        Say($"after DEL of both pods: {left} element(s) left in the pod sets");
        ok &= left == 0;
        Say(ok ? "result: traffic took the expected paths" : "result: FAILED, see above");
        return ok;
    }

    private static string Describe(EgressPath path) => path switch
    {
        EgressPath.Vpn => "VPN gateway",
        EgressPath.Main => "main gateway",
        _ => "unknown path",
    };

    private void Say(string line) => output.WriteLine(line);
}
