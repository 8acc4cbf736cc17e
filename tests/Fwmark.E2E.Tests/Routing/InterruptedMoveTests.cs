using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>
/// A plugin killed while moving a mark to another priority: the new rules were added, the old ones not yet
/// withdrawn, so every later call sees its own rules "already there" (issue 8: reconcile said "still wrong"
/// for ever). The next reconcile must withdraw the old rules, succeed, and leave the pod on the VPN.
/// </summary>
public sealed class InterruptedMoveTests
{
    private const uint Moved = 2000;

    [Fact]
    public void Reconcile_after_a_kill_between_adding_moved_rules_and_withdrawing_the_old_ones_converges()
    {
        using var bed = RoutedBed.Create();
        var pod = bed.AddMarked("moved");
        bed.AssertPath(pod, AddressFamily.InterNetwork, EgressPath.Vpn, "before the move");

        // The conflist now says priority 2000; the killed call had added exactly the rules that asks for.
        var conflist = bed.Network.Chain.Conflist.DeepClone().AsObject();
        var fwmark = conflist["plugins"]!.AsArray().OfType<JsonObject>().Single(p => (string?)p["type"] == "fwmark");
        fwmark["marks"]!["vpn"]!["route"]!["priority"] = Moved;
        bed.ConfDir.Write($"{RoutedBed.NetworkName}.conflist", conflist.ToJsonString());
        foreach (var family in new[] { "-4", "-6" })
        {
            bed.Node.Ip(family, "rule", "add", "pref", $"{Moved}", "fwmark", "0x10/0x10", "lookup", "main", "suppress_prefixlength", "0", "proto", "243");
            bed.Node.Ip(family, "rule", "add", "pref", $"{Moved + 1}", "fwmark", "0x10/0x10", "lookup", $"{RoutedBed.Table}", "proto", "243");
        }

        var first = bed.Reconcile();

        Assert.True(first.Succeeded, $"reconcile after the interrupted move\n{first.Describe()}\n{bed.Diagnostics()}");
        Assert.Contains("was made by fwmark but is not in the config", first.Stdout, StringComparison.Ordinal); // reported as repaired
        ExpectedRouting.AssertInstalled(bed.Node, Moved, RoutedBed.Table, bed.Bed.NodeVpnLink, "after the reconcile");
        var again = bed.Reconcile();
        Assert.True(again.Succeeded && again.Stdout.Length == 0, $"a second reconcile had something to do\n{again.Describe()}");
        foreach (var family in ExpectedRouting.Families)
        {
            bed.AssertPath(pod, family, EgressPath.Vpn, "after the reconcile");
        }
    }
}
