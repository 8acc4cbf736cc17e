using System.Net.Sockets;
using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Records;

/// <summary>
/// The structure claim (docs/netlink-notes.md) as the published Native AOT plugin writes it: with a real build ID
/// (the claim is tied to module version IDs, which a trimmed AOT binary could in principle lack: then every build
/// would look alike) and this boot's ID, in the run's state directory. And with it in place, a flush is still a
/// flush: the next ADD rebuilds the table and its pod leaves through the VPN.
/// </summary>
public sealed class StructureClaimTests
{
    [Fact]
    public void The_published_plugin_claims_with_its_build_and_boot_and_a_flush_still_gets_repaired()
    {
        using var bed = RoutedBed.Create();
        bed.AddMarked("claim1"); // builds the table
        bed.AddMarked("claim2"); // finds it healthy: claims
        var file = Path.Combine(bed.Bed.StateDir, "nftables-verified");
        Assert.True(File.Exists(file), $"no structure claim in {bed.Bed.StateDir}\n{bed.Diagnostics()}");

        var fields = File.ReadAllText(file).Split('\n')[0].Split(' ');
        Assert.Equal("fwmark-structure-claim/1", fields[0]);
        Assert.NotEqual(new string('0', 32), fields[1]);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim().Replace("-", "", StringComparison.Ordinal), fields[2]);

        bed.Node.Run("nft", "flush", "ruleset");
        var third = bed.AddMarked("claim3");

        bed.AssertPath(third, AddressFamily.InterNetwork, EgressPath.Vpn, "the first pod added after nft flush ruleset, with a claim on file");
    }
}
