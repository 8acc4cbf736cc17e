using System.Net.Sockets;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>
/// The plugin's tables changed behind its back in ways that keep every comment and expression name
/// (issue 8): a running marked pod's traffic reaches the main gateway. CHECK must fail and name the
/// difference; the next ADD (of any pod) repairs it, and the pod's traffic goes through the VPN again.
/// The bed's pods are bridge ports, marked in `bridge fwmark` (issue 9), so that is the table tampered with,
/// plus the inet `replies` chain, which takes the bridge's mark off reply-direction packets. (Tampering with
/// inet prerouting or its mark chains does not reach a bridge port's packets; for address-keyed attachments
/// the kernel DriftTests cover those.)
/// </summary>
public sealed class DriftRepairTests
{
    public static TheoryData<string, string> Tampering => new()
    {
        { "bridge mark rule rewritten to another value", "was changed: expression 2 is bitwise(" },
        { "ct direction reply flipped to original in the replies chain", "in chain replies was changed" },
        { "bridge table set dormant", "table bridge fwmark is dormant" },
        { "bridge prerouting re-created without its hook", "chain prerouting is a regular chain" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public void A_tampered_table_fails_check_and_the_next_add_sends_the_pod_through_the_vpn_again(string tampering, string reported)
    {
        using var bed = RoutedBed.Create();
        var pod = bed.AddMarked("drift");
        bed.AssertPath(pod, AddressFamily.InterNetwork, EgressPath.Vpn, "before tampering");

        bed.Node.Nft(Script(tampering, bed));
        // The finding: with the table looking right by name, the pod leaves through the main gateway.
        bed.AssertPath(pod, AddressFamily.InterNetwork, EgressPath.Main, $"after {tampering}");

        var check = bed.Network.Chain.RunCheck(pod.Attachment, pod.AddResult!);
        var failed = check.Failed;
        Assert.True(failed is { Plugin: "fwmark" }, $"CHECK passed after {tampering}\n{check.Describe()}\n{bed.Diagnostics()}");
        var message = failed.Json?["msg"]?.GetValue<string>() ?? "";
        Assert.True(message.Contains(reported, StringComparison.Ordinal), $"CHECK did not report \"{reported}\"\n{failed.Describe()}");

        bed.AddMarked("repairer");

        var healthy = bed.Network.Chain.RunCheck(pod.Attachment, pod.AddResult!);
        Assert.True(healthy.Succeeded, $"CHECK after the repairing ADD\n{healthy.Describe()}\n{bed.Diagnostics()}");
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            bed.AssertPath(pod, family, EgressPath.Vpn, $"after the ADD that repaired {tampering}");
        }
    }

    private static string Script(string tampering, RoutedBed bed)
    {
        const string mark = "mark-00000010-00000010";
        return tampering switch
        {
            // Same comment, same expression names: only the value differs (0x20 is routed nowhere).
            "bridge mark rule rewritten to another value" => $"""
                flush chain bridge fwmark {mark}
                add rule bridge fwmark {mark} meta mark set meta mark | 0x20 counter comment "set mark 0x00000010 under mask 0x00000010"
                """,
            // Now the pod's own (original-direction) packets lose the bridge's mark.
            "ct direction reply flipped to original in the replies chain" => $"""
                replace rule inet fwmark replies handle {FirstHandle(bed, "replies", "ct direction reply")} ct direction original meta mark & 0x00000010 == 0x00000010 meta mark set meta mark & 0xffffffef counter comment "replies keep the main path: clear mark 0x00000010 under mask 0x00000010"
                """,
            "bridge table set dormant" => "add table bridge fwmark { flags dormant; }",
            "bridge prerouting re-created without its hook" => """
                delete chain bridge fwmark prerouting
                add chain bridge fwmark prerouting
                """,
            _ => throw new ArgumentException($"unknown tampering {tampering}", nameof(tampering)),
        };
    }

    /// <summary>The handle of the first rule of inet <paramref name="chain"/> that contains <paramref name="text"/>, from `nft -a`.</summary>
    private static string FirstHandle(RoutedBed bed, string chain, string text)
    {
        var listing = bed.Node.Run("nft", "-a", "list", "chain", "inet", "fwmark", chain).Stdout;
        var line = listing.Split('\n').First(l => l.Contains(text, StringComparison.Ordinal));
        return line[(line.LastIndexOf("# handle ", StringComparison.Ordinal) + "# handle ".Length)..].Trim();
    }
}
