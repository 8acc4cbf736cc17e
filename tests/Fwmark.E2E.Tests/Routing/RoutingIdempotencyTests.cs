using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>
/// The routing objects are node-wide and shared by every pod of a mark: any number of ADDs leaves exactly one
/// copy of each; CHECK sees one that was removed behind the plugin's back; the next ADD puts it back.
/// Pods beyond the first are the plugin alone with crafted prevResults (what a chain would hand it).
/// </summary>
public sealed class RoutingIdempotencyTests
{
    private const uint Priority = 2000;

    [Fact]
    [Trait("Duration", "Long")] // 102 plugin execs
    public void Hundred_adds_sharing_a_mark_leave_one_copy_and_check_and_add_handle_a_rule_deleted_behind_the_plugins_back()
    {
        using var bed = RoutedBed.Create(priority: Priority);
        var template = bed.AddMarked("tmpl");
        var added = new List<(CniAttachment Attachment, JsonObject PrevResult)>();
        for (var i = 0; i < 100; i++)
        {
            added.Add(AddCrafted(bed, template, i));
        }

        ExpectedRouting.AssertInstalled(bed.Node, Priority, RoutedBed.Table, bed.Bed.NodeVpnLink, "after 101 ADDs");
        // 100 crafted address-path attachments (two addresses each) and the template on its bridge port.
        Assert.Equal(2 * 100, NftOracle.Elements(bed.Node).Count(e => e.Target == "mark-00000010-00000010"));
        Assert.Single(NftOracle.InterfaceElements(bed.Node));
        var (probe, probeResult) = added[0];
        AssertCheck(bed, probe, probeResult, passes: true, "with everything in place");

        // Someone removes the IPv4 lookup rule: marked IPv4 traffic would silently take main.
        bed.Node.Ip("-4", "rule", "del", "pref", $"{Priority + 1}");
        var missingRule = AssertCheck(bed, probe, probeResult, passes: false, "after ip -4 rule del");
        Assert.Contains($"pref {Priority + 1} fwmark {ExpectedRouting.Selector} lookup {RoutedBed.Table}", missingRule);

        AddCrafted(bed, template, 100);
        ExpectedRouting.AssertInstalled(bed.Node, Priority, RoutedBed.Table, bed.Bed.NodeVpnLink, "after the repairing ADD");
        AssertCheck(bed, probe, probeResult, passes: true, "after the repairing ADD");

        // The IPv6 suppress rule and the IPv4 fail-closed route at once.
        bed.Node.Ip("-6", "rule", "del", "pref", $"{Priority}");
        bed.Node.Ip("-4", "route", "del", "unreachable", "default", "metric", "4294967295", "table", $"{RoutedBed.Table}");
        var missingTwo = AssertCheck(bed, probe, probeResult, passes: false, "after ip -6 rule del and deleting the unreachable route");
        Assert.Contains($"pref {Priority} fwmark {ExpectedRouting.Selector} lookup main suppress_prefixlength 0", missingTwo);
        Assert.Contains("unreachable default", missingTwo);

        AddCrafted(bed, template, 101);
        ExpectedRouting.AssertInstalled(bed.Node, Priority, RoutedBed.Table, bed.Bed.NodeVpnLink, "after the second repairing ADD");
        AssertCheck(bed, probe, probeResult, passes: true, "after the second repairing ADD");
    }

    [Fact]
    public void Concurrent_first_adds_of_pods_sharing_a_mark_leave_one_copy()
    {
        // Pods of one mark starting together on a fresh node: every ADD finds the routing missing and makes it.
        const int Pods = 16;
        using var bed = RoutedBed.Create();
        var netns = bed.Bed.CreatePodNetns("race");
        var results = new CniExecResult[Pods];
        using var start = new Barrier(Pods);
        var threads = Enumerable.Range(0, Pods).Select(i => new Thread(() =>
        {
            var attachment = new CniAttachment(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), netns.Path)
            {
                CapabilityArgs = FwmarkPluginConfig.Annotated("vpn"),
            };
            start.SignalAndWait();
            results[i] = bed.Network.Chain.Invoke("fwmark", CniChain.Add, attachment, PrevResult(netns.Path, i));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.All(results, r => Assert.True(r.Succeeded, r.Describe()));
        // Each of them really selected the routed mark (a pass-through ADD would make no routing at all).
        Assert.Equal(2 * Pods, NftOracle.Elements(bed.Node).Count(e => e.Target == "mark-00000010-00000010"));
        ExpectedRouting.AssertInstalled(bed.Node, RoutedBed.DocumentedDefaultPriority, RoutedBed.Table, bed.Bed.NodeVpnLink, $"after {Pods} concurrent ADDs");
    }

    /// <summary>A bridge-style CNI 1.0.0 result: eth0 in <paramref name="sandbox"/> with 10.88.0.(100+i) and 2001:db8:88::(100+i).</summary>
    private static JsonObject PrevResult(string sandbox, int i) => new()
    {
        ["cniVersion"] = "1.0.0",
        ["interfaces"] = new JsonArray(new JsonObject { ["name"] = "eth0", ["sandbox"] = sandbox }),
        ["ips"] = new JsonArray(
            new JsonObject { ["address"] = $"10.88.0.{100 + i}/24", ["gateway"] = "10.88.0.1", ["interface"] = 0 },
            new JsonObject { ["address"] = $"2001:db8:88::{100 + i:x}/64", ["gateway"] = "2001:db8:88::1", ["interface"] = 0 }),
    };

    /// <summary>
    /// ADD of the plugin alone for a new container whose prevResult is <paramref name="template"/>'s with
    /// addresses 10.88.0.(100+i) and 2001:db8:88::(100+i) (host-local hands out the low ones), and only the pod's
    /// interface: 101 attachments cannot all own the template's host veth, so these take the address path.
    /// </summary>
    private static (CniAttachment, JsonObject) AddCrafted(RoutedBed bed, Pod template, int i)
    {
        var prevResult = template.AddResult!.DeepClone().AsObject();
        var podSide = prevResult["interfaces"]!.AsArray().Single(n => n?["sandbox"] is not null)!.DeepClone();
        prevResult["interfaces"] = new JsonArray(podSide);
        foreach (var ip in prevResult["ips"]!.AsArray())
        {
            ip!["interface"] = 0;
        }

        foreach (var ip in prevResult["ips"]!.AsArray())
        {
            var v6 = ip!["address"]!.GetValue<string>().Contains(':', StringComparison.Ordinal);
            ip["address"] = v6 ? $"2001:db8:88::{100 + i:x}/64" : $"10.88.0.{100 + i}/24";
        }

        var attachment = template.Attachment with { ContainerId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) };
        var add = bed.Network.Chain.Invoke("fwmark", CniChain.Add, attachment, prevResult);
        Assert.True(add.Succeeded, $"ADD #{i}\n{add.Describe()}\n{bed.Diagnostics()}");
        return (attachment, prevResult);
    }

    /// <summary>CHECK of the plugin alone; returns the error's msg + details when it failed.</summary>
    private static string AssertCheck(RoutedBed bed, CniAttachment attachment, JsonObject prevResult, bool passes, string when)
    {
        var check = bed.Network.Chain.Invoke("fwmark", CniChain.Check, attachment, prevResult);
        if (passes)
        {
            Assert.True(check.Succeeded, $"CHECK {when}\n{check.Describe()}\n{bed.Diagnostics()}");
            return "";
        }

        Assert.False(check.Succeeded, $"CHECK passed {when}\n{check.Describe()}\n{bed.Diagnostics()}");
        Assert.True(check.ErrorCode is > 0, $"CHECK {when}: no CNI error code\n{check.Describe()}");
        return $"{check.Json?["msg"]?.GetValue<string>()}\n{check.Json?["details"]?.GetValue<string>()}";
    }
}
