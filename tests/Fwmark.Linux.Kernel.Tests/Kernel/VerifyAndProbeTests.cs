using Fwmark.Core;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Kernel;

public class VerifyAndProbeTests : KernelTestBase
{
    [Fact]
    public void A_fresh_install_verifies_clean()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);

        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn));
    }

    [Fact]
    public void Verify_reports_an_element_deleted_behind_its_back()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn);
        Node.Run("nft", "delete", "element", "inet", "fwmark", "pods6-mark-00000010-00000010", "{ 2001:db8::5 }");

        Assert.Equal(
            ["element 2001:db8::5 is missing from set pods6-mark-00000010-00000010"],
            Dataplane.Verify(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn));
    }

    [Fact]
    public void Verify_reports_an_element_taken_over_by_another_attachment()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.5")], Vpn);

        Assert.Equal(
            [$"element 10.88.0.5 in set pods4-mark-00000010-00000010 is owned by another attachment ({PodB.Tag})"],
            Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void Verify_reports_an_element_in_another_mark_chains_set()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Gw2);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);

        Assert.Equal(
            [
                "element 10.88.0.5 is missing from set pods4-mark-00000010-00000010",
                $"element 10.88.0.5 is also in set pods4-{Gw2.ChainName}, which sends it to chain {Gw2.ChainName} instead of chain {Vpn.ChainName}",
            ],
            Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void Verify_reports_an_element_in_two_mark_sets_at_once()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Gw2);
        Node.Run("nft", "add", "element", "inet", "fwmark", $"pods4-{Gw2.ChainName}", "{ 10.88.0.5 }");

        Assert.Equal(
            [$"element 10.88.0.5 is also in set pods4-{Gw2.ChainName}, which sends it to chain {Gw2.ChainName} instead of chain {Vpn.ChainName}"],
            Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void Verify_reports_flushed_rules_and_a_missing_mark_chain()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Node.Run("nft", "flush", "chain", "inet", "fwmark", "prerouting");

        Assert.Equal(
            [
                "rule \"ct direction reply return\" is missing from chain prerouting",
                $"rule \"iifname @ifaces-{Vpn.ChainName} goto {Vpn.ChainName}\" is missing from chain prerouting",
                $"rule \"ip saddr @pods4-{Vpn.ChainName} goto {Vpn.ChainName}\" is missing from chain prerouting",
                $"rule \"ip6 saddr @pods6-{Vpn.ChainName} goto {Vpn.ChainName}\" is missing from chain prerouting",
                $"rule \"iifname @ifaces-{Gw2.ChainName} goto {Gw2.ChainName}\" is missing from chain prerouting",
                $"rule \"ip saddr @pods4-{Gw2.ChainName} goto {Gw2.ChainName}\" is missing from chain prerouting",
                $"rule \"ip6 saddr @pods6-{Gw2.ChainName} goto {Gw2.ChainName}\" is missing from chain prerouting",
                $"rule \"ct direction reply meta mark & 0x{Gw2.Mask:x8} == 0x{Gw2.Value:x8} meta mark set meta mark & 0x{~Gw2.Mask:x8} counter\" is missing from chain replies",
                $"chain {Gw2.ChainName} is missing from table inet fwmark",
                $"set pods4-{Gw2.ChainName} is missing from table inet fwmark, so 10.88.0.5 is not marked",
                $"element 10.88.0.5 is also in set pods4-{Vpn.ChainName}, which sends it to chain {Vpn.ChainName} instead of chain {Gw2.ChainName}",
            ],
            Dataplane.Verify(PodA, [Ip("10.88.0.5")], Gw2));
    }

    [Fact]
    public void Verify_reports_a_missing_table()
    {
        Assert.Equal(["table inet fwmark is missing"], Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void Probe_succeeds_where_nf_tables_answers()
    {
        Dataplane.Probe();
        Assert.Equal("", NftOracle.Ruleset(Node)); // probing writes nothing
    }

    [Fact]
    public void Probe_fails_with_the_cause_when_the_namespace_cannot_be_entered()
    {
        var missing = new NftDataplane($"{Node.Path}-does-not-exist", LockPath);

        var error = Assert.Throws<DataplaneException>(missing.Probe);

        Assert.Equal(DataplaneFailure.Failed, error.Kind);
        Assert.Equal($"failed to open network namespace {Node.Path}-does-not-exist: No such file or directory", error.Message);
    }
}
