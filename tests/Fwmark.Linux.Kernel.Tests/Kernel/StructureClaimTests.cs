using Fwmark.Core;
using Fwmark.Core.Paths;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// Structure claims against the real kernel (Dataplane/StructureClaim.cs): which calls leave one and for which
/// generation, that a claim is used only for its own build, namespace and generation, and what using one means (the
/// call does not look at the structure). Tampering after a claim is DriftTests.A_structure_claim_never_hides_tampering.
/// </summary>
public class StructureClaimTests : KernelTestBase
{
    [Fact]
    public void The_first_add_builds_and_claims_nothing_a_later_add_claims_and_each_add_and_del_carries_the_claim_on()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Assert.Null(ClaimOnFile()); // it built the table: the next call must look at what it built

        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);
        var claim = ClaimOnFile();
        Assert.NotNull(claim);
        Assert.Equal(Generation(), claim.Generation);
        Assert.Equal(NodeCookie(), claim.Netns);
        Assert.False(claim.Bridge);
        Assert.Contains(FwmarkRuleset.SetFor(Ip("10.88.0.5"), Vpn.ChainName).Name, claim.SetNames);

        Dataplane.Install(new AttachmentOwner("net1", "container-c", "eth0"), [Ip("10.88.0.7")], Vpn);
        Assert.Equal(Generation(), ClaimOnFile()?.Generation);
        Dataplane.Remove(PodB, [Ip("10.88.0.6")]);
        Assert.Equal(Generation(), ClaimOnFile()?.Generation);
        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void A_new_mark_is_a_repair_so_its_add_leaves_the_old_claim_behind_its_generation()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);

        Dataplane.Install(new AttachmentOwner("net1", "container-c", "eth0"), [Ip("10.88.0.7")], Gw2);

        Assert.NotEqual(Generation(), ClaimOnFile()?.Generation);
        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void A_claim_is_trusted_for_this_build_namespace_and_generation_and_for_nothing_else()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);
        var honest = ClaimOnFile()!;
        Node.Run("nft", "flush", "chain", "inet", "fwmark", Vpn.ChainName); // packets of the vpn pods now go unmarked
        var claims = new StructureClaimFile(Path.GetDirectoryName(LockPath)!);
        var now = honest with { Generation = Generation() };

        // Forged for the generation after the flush, but by another build, boot or namespace: ignored, repaired.
        foreach (var forged in new[] { now with { Build = Guid.NewGuid() }, now with { Boot = Guid.NewGuid() }, now with { Netns = now.Netns + 1 } })
        {
            claims.Write(forged);
            Assert.NotEmpty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
            Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
            Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
            Node.Run("nft", "flush", "chain", "inet", "fwmark", Vpn.ChainName);
            now = now with { Generation = Generation() };
        }

        // The contrast that shows a matching claim is what the fast path trusts: forged with everything right, it
        // hides the flush. Only the state directory's owner (root) can write one, and the generation check means
        // no honest claim survives a change.
        claims.Write(now);
        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
        claims.Forget();
        Assert.NotEmpty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
    }

    [Fact]
    public void A_claim_the_kernel_contradicts_is_dropped_and_the_call_succeeds_from_the_kernel_alone()
    {
        // A claim for this very generation naming sets that do not exist (no table at all): the element add fails.
        var cookie = NodeCookie()!.Value;
        var claims = new StructureClaimFile(Path.GetDirectoryName(LockPath)!);
        Directory.CreateDirectory(Path.GetDirectoryName(LockPath)!);
        claims.Write(StructureClaim.Make(cookie, Generation(), [.. FwmarkRuleset.InetSetsOf(Vpn.ChainName).Select(s => s.Name)], bridge: false));

        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);

        Assert.Empty(Dataplane.Verify(PodA, [Ip("10.88.0.5")], Vpn));
        Assert.NotEqual(Generation(), ClaimOnFile()?.Generation); // dropped; the table it built is a repair: no claim
    }

    [Fact]
    public void Bridge_ports_claim_the_bridge_table_too_and_a_bridge_tampering_is_still_repaired()
    {
        var ports = $"ports-{Vpn.ChainName}";
        Dataplane.InstallTarget(PodA, Port("vethA", "10.88.0.5"), Vpn); // builds both tables
        Dataplane.InstallTarget(PodB, Port("vethB", "10.88.0.6"), Vpn); // reads both, healthy: claims
        Assert.True(ClaimOnFile()?.Bridge);
        Assert.Equal(Generation(), ClaimOnFile()?.Generation);

        var podC = new AttachmentOwner("net1", "container-c", "eth0");
        Dataplane.InstallTarget(podC, Port("vethC", "10.88.0.7"), Vpn); // from the claim
        Dataplane.RemoveKeys(PodB, new AttachmentKeys([Ip("10.88.0.6")], ["cni0", "vethB"]));
        Assert.Equal(Generation(), ClaimOnFile()?.Generation);
        var listing = Node.Run("nft", "list", "set", "bridge", "fwmark", ports).Stdout;
        Assert.Contains("\"vethC\"", listing);
        Assert.DoesNotContain("\"vethB\"", listing);
        // CHECK from the claim still looks every element up.
        Assert.Empty(Dataplane.VerifyTarget(podC, Port("vethC", "10.88.0.7"), Vpn));
        Assert.Contains(Dataplane.VerifyTarget(PodB, Port("vethB", "10.88.0.6"), Vpn), p => p.Contains("\"vethB\"", StringComparison.Ordinal) && p.Contains("missing", StringComparison.Ordinal));
        Assert.Equal(Generation(), ClaimOnFile()?.Generation);

        Node.Run("nft", "flush", "chain", "bridge", "fwmark", Vpn.ChainName);
        Assert.NotEmpty(Dataplane.VerifyTarget(PodA, Port("vethA", "10.88.0.5"), Vpn));
        Dataplane.InstallTarget(PodA, Port("vethA", "10.88.0.5"), Vpn);
        Assert.Empty(Dataplane.VerifyTarget(PodA, Port("vethA", "10.88.0.5"), Vpn));
        Assert.Empty(Dataplane.VerifyTarget(podC, Port("vethC", "10.88.0.7"), Vpn));
    }
}
