using Fwmark.Core;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// Our table changed behind the plugin's back in ways a comparison of comments and expression
/// names cannot see (issue 8's findings): CHECK names the difference, the next Install puts the
/// table back exactly as fwmark makes it, and CHECK passes again.
/// </summary>
public class DriftTests : KernelTestBase
{
    private const string MarkComment = "\"set mark 0x00000010 under mask 0x00000010\"";

    private const string ReplyComment = "\"replies of connections opened to the pod keep the main path\"";

    public static TheoryData<string, string> Tampering => new()
    {
        { "dormant table", "table inet fwmark is dormant" },
        { "prerouting without its hook", "chain prerouting is a regular chain (no hook: no packet enters it) where fwmark makes a base chain \"type filter hook prerouting priority -150; policy accept\"" },
        { "prerouting with policy drop", "chain prerouting is a base chain \"type filter hook prerouting priority -150; policy drop\"" },
        { "prerouting at another priority", "chain prerouting is a base chain \"type filter hook prerouting priority 10; policy accept\"" },
        { "mark rule rewritten to another value", "rule \"meta mark set meta mark & 0xffffffef | 0x00000010 counter\" in chain mark-00000010-00000010 was changed: expression 2 is bitwise(" },
        { "ct direction reply flipped to original", "rule \"ct direction reply return\" in chain prerouting was changed: expression 2 is cmp(" },
        { "lookup inverted", "rule \"ip saddr @pods4-mark-00000010-00000010 goto mark-00000010-00000010\" in chain prerouting was changed: expression 4 is lookup(" },
        { "set made an interval set", "set pods4-mark-00000010-00000010 has key type 7 (4 bytes), flags 0x4" },
        { "set made without counters (an older fwmark's)", "set pods4-mark-00000010-00000010 has no element expressions where fwmark makes a counter per element" },
        { "foreign base chain", "chain sneaky in table inet fwmark was not made by fwmark (type filter hook prerouting priority -300; policy drop" },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public void Check_reports_the_difference_and_install_repairs_it(string tampering, string reported)
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        var healthy = Objects(NftOracle.Ruleset(Node));
        Tamper(tampering);
        Assert.NotEqual(healthy, Objects(NftOracle.Ruleset(Node)));

        var problems = Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn);
        Assert.True(problems.Any(p => p.Contains(reported, StringComparison.Ordinal)), $"expected a problem containing \"{reported}\", got:\n{string.Join('\n', problems)}");

        // Another pod's ADD (any ADD) repairs the shared structure; PodA's element survives it.
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);

        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
        Assert.Empty(Dataplane.Verify(PodB, [Ip("10.88.0.6")], Vpn));
        Dataplane.Remove(PodB, [Ip("10.88.0.6")]);
        Assert.Equal(healthy, Objects(NftOracle.Ruleset(Node)));
    }

    /// <summary>
    /// The same, right after an ADD left a structure claim (Dataplane/StructureClaim.cs): the tampering is a commit,
    /// so the claim's generation has passed and CHECK and the next ADD read and compare everything again.
    /// </summary>
    [Theory]
    [MemberData(nameof(Tampering))]
    public void A_structure_claim_never_hides_tampering(string tampering, string reported)
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn); // reads a healthy table: leaves a claim
        Assert.Equal(Generation(), ClaimOnFile()?.Generation);
        Tamper(tampering);

        var problems = Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn);
        Assert.True(problems.Any(p => p.Contains(reported, StringComparison.Ordinal)), $"expected a problem containing \"{reported}\", got:\n{string.Join('\n', problems)}");
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);

        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
        Assert.Empty(Dataplane.Verify(PodB, [Ip("10.88.0.6")], Vpn));
    }

    /// <summary>
    /// `nft list ruleset` as its table header plus its sets and chains in name order: a re-made
    /// chain is listed after the ones that were never deleted, which is not a difference.
    /// </summary>
    private static List<string> Objects(string ruleset)
    {
        var header = new List<string>();
        var blocks = new List<List<string>>();
        foreach (var line in ruleset.Split('\n'))
        {
            if (line.StartsWith("\tset ", StringComparison.Ordinal) || line.StartsWith("\tchain ", StringComparison.Ordinal))
            {
                blocks.Add([]);
            }

            if (line.Length == 0 || line == "}")
            {
                continue;
            }

            (blocks.Count == 0 ? header : blocks[^1]).Add(line);
        }

        return [.. header, .. blocks.Select(b => string.Join('\n', b)).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void A_healthy_table_is_compared_operand_by_operand_and_costs_no_write()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn with { Connmark = true });
        var generation = Generation();
        var before = NftOracle.Ruleset(Node);

        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn with { Connmark = true });

        Assert.Equal(before, NftOracle.Ruleset(Node));
        Assert.Equal(generation, Generation()); // nothing was committed
        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn with { Connmark = true }));
    }

    private void Tamper(string tampering)
    {
        var mark = Vpn.ChainName;
        var set4 = $"pods4-{mark}";
        switch (tampering)
        {
            case "dormant table":
                Node.Run("nft", "add", "table", "inet", "fwmark", "{ flags dormant; }");
                break;
            case "prerouting without its hook":
                Node.Run("nft", "delete", "chain", "inet", "fwmark", "prerouting");
                Node.Run("nft", "add", "chain", "inet", "fwmark", "prerouting");
                break;
            case "prerouting with policy drop":
                Node.Run("nft", "chain", "inet", "fwmark", "prerouting", "{ policy drop; }");
                break;
            case "prerouting at another priority":
                Node.Run("nft", "delete", "chain", "inet", "fwmark", "prerouting");
                Node.Run("nft", "add", "chain", "inet", "fwmark", "prerouting", "{ type filter hook prerouting priority 10; }");
                break;
            case "mark rule rewritten to another value":
                Node.Run("nft", "flush", "chain", "inet", "fwmark", mark);
                Node.Run("nft", "add", "rule", "inet", "fwmark", mark, "meta", "mark", "set", "meta", "mark", "|", "0x20", "counter", "comment", MarkComment);
                break;
            case "ct direction reply flipped to original":
                Node.Run("nft", "replace", "rule", "inet", "fwmark", "prerouting", "handle", Handle(0), "ct", "direction", "original", "return", "comment", ReplyComment);
                break;
            case "lookup inverted":
                // Rule 1 is the ifname lookup (interface keys come first), rule 2 the IPv4 address lookup.
                Node.Run("nft", "replace", "rule", "inet", "fwmark", "prerouting", "handle", Handle(2),
                    "ip", "saddr", "!=", $"@{set4}", "goto", mark, "comment", $"\"IPv4 pods of {mark}\"");
                break;
            case "set made an interval set":
                Node.Run("nft", "flush", "chain", "inet", "fwmark", "prerouting");
                Node.Run("nft", "delete", "set", "inet", "fwmark", set4);
                Node.Run("nft", "add", "set", "inet", "fwmark", set4, "{ type ipv4_addr; flags interval; }");
                Node.Run("nft", "add", "element", "inet", "fwmark", set4, $"{{ 10.88.0.5 comment \"{PodA.Tag}\" }}");
                break;
            case "set made without counters (an older fwmark's)":
                Node.Run("nft", "flush", "chain", "inet", "fwmark", "prerouting");
                Node.Run("nft", "delete", "set", "inet", "fwmark", set4);
                Node.Run("nft", "add", "set", "inet", "fwmark", set4, "{ type ipv4_addr; }");
                Node.Run("nft", "add", "element", "inet", "fwmark", set4, $"{{ 10.88.0.5 comment \"{PodA.Tag}\" }}");
                Node.Run("nft", "add", "rule", "inet", "fwmark", "prerouting", "ct", "direction", "reply", "return", "comment", ReplyComment);
                Node.Run("nft", "add", "rule", "inet", "fwmark", "prerouting", "ip", "saddr", $"@{set4}", "goto", mark, "comment", $"\"IPv4 pods of {mark}\"");
                Node.Run("nft", "add", "rule", "inet", "fwmark", "prerouting", "ip6", "saddr", $"@pods6-{mark}", "goto", mark, "comment", $"\"IPv6 pods of {mark}\"");
                break;
            case "foreign base chain":
                Node.Run("nft", "add", "chain", "inet", "fwmark", "sneaky", "{ type filter hook prerouting priority -300; policy drop; }");
                break;
            default:
                throw new ArgumentException($"unknown tampering {tampering}", nameof(tampering));
        }
    }


    private string Handle(int index) => NftJson.Handles(NftOracle.Json(Node), "prerouting")[index].ToString(System.Globalization.CultureInfo.InvariantCulture);
}
