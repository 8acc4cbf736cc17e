using Fwmark.Cni;

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
        Node.Nft("delete", "element", "inet", "fwmark", "pods6", "{ 2001:db8::5 }");

        Assert.Equal(
            ["element 2001:db8::5 is missing from map pods6"],
            Dataplane.Verify(PodA, [Ip("10.88.0.5"), Ip("2001:db8::5")], Vpn));
    }

    [Fact]
    public void Verify_reports_an_element_taken_over_by_another_attachment()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.5")], Vpn);

        Assert.Equal(
            [$"element 10.88.0.5 in map pods4 is owned by another attachment ({PodB.Tag})"],
            Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void Verify_reports_an_element_pointing_to_another_mark_chain()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Gw2);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);

        Assert.Equal(
            [$"element 10.88.0.5 in map pods4 points to {Gw2.ChainName} instead of chain {Vpn.ChainName}"],
            Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void Verify_reports_flushed_rules_and_a_missing_mark_chain()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Node.Nft("flush", "chain", "inet", "fwmark", "prerouting");

        Assert.Equal(
            [
                "rule \"ct direction reply return\" is missing from chain prerouting",
                "rule \"ip saddr vmap @pods4\" is missing from chain prerouting",
                "rule \"ip6 saddr vmap @pods6\" is missing from chain prerouting",
                $"chain {Gw2.ChainName} is missing from table inet fwmark",
                $"element 10.88.0.5 in map pods4 points to {Vpn.ChainName} instead of chain {Gw2.ChainName}",
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
        Assert.Equal("", Node.Ruleset()); // probing writes nothing
    }

    [Fact]
    public void Probe_fails_with_the_cause_when_the_namespace_cannot_be_entered()
    {
        var missing = new NftDataplane($"{Node.Path}-does-not-exist");

        var error = Assert.Throws<CniException>(missing.Probe);

        Assert.Equal(CniErrorCodes.IoFailure, error.Code);
        Assert.Equal($"failed to open network namespace {Node.Path}-does-not-exist: No such file or directory", error.Message);
    }
}
