using Fwmark.Core;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>The dataplane's connmark variant: a mark chain that also saves, and a restore base chain.</summary>
public class ConnmarkInstallTests : KernelTestBase
{
    private static readonly Core.MarkSpec VpnConnmark = Vpn with { Connmark = true };

    [Fact]
    public void Install_with_connmark_adds_the_save_rule_and_the_restore_chain()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], VpnConnmark);

        var ruleset = NftOracle.Ruleset(Node);
        Assert.Contains(
            """
            	chain mark-00000010-00000010-connmark {
            		meta mark set meta mark | 0x00000010 counter packets 0 bytes 0 comment "set mark 0x00000010 under mask 0x00000010"
            		ct mark set ct mark | 0x00000010 comment "save mark 0x00000010 under mask 0x00000010 to conntrack"
            	}
            """.ReplaceLineEndings("\n"),
            ruleset,
            StringComparison.Ordinal);
        Assert.Contains(
            """
            	chain connmark-00000010-00000010 {
            		type filter hook prerouting priority mangle; policy accept;
            		ct direction reply ct mark & 0x00000010 == 0x00000010 meta mark set meta mark | 0x00000010 counter packets 0 bytes 0 comment "restore mark 0x00000010 under mask 0x00000010 on replies"
            	}
            """.ReplaceLineEndings("\n"),
            ruleset,
            StringComparison.Ordinal);
        Assert.Contains("10.88.0.5 counter packets 0 bytes 0 comment", ruleset, StringComparison.Ordinal);
        Assert.Contains("ip saddr @pods4-mark-00000010-00000010-connmark goto mark-00000010-00000010-connmark", ruleset, StringComparison.Ordinal);
        Assert.Equal([("10.88.0.5", PodA.Tag, VpnConnmark.ChainName)], NftJson.Elements(NftOracle.Json(Node), "pods4"));
        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], VpnConnmark));
    }

    [Fact]
    public void A_second_install_leaves_the_connmark_ruleset_as_it_was()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], VpnConnmark);
        var before = NftOracle.Ruleset(Node);

        Dataplane.Install(PodB, [Ip("10.88.0.6")], VpnConnmark);
        Dataplane.Remove(PodB, [Ip("10.88.0.6")]);

        Assert.Equal(before, NftOracle.Ruleset(Node));
    }

    [Fact]
    public void Verify_names_a_missing_restore_rule()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], VpnConnmark);
        Node.Run("nft", "flush", "chain", "inet", "fwmark", "connmark-00000010-00000010");

        var problem = Assert.Single(Dataplane.Verify(PodA, [Ip("10.88.0.5")], VpnConnmark));
        Assert.Contains("connmark-00000010-00000010", problem, StringComparison.Ordinal);

        Dataplane.Install(PodA, [Ip("10.88.0.5")], VpnConnmark);
        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], VpnConnmark));
    }
}
