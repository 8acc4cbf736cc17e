using Fwmark.Core;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// Issue 8 ("also found"): what others leave on the node must not break teardown. On main a catch-all
/// element made every element dump throw ("set element without a key"), so DEL without prevResult and GC
/// failed; and a lock directory that could not be created blocked DEL with a bare I/O error.
/// </summary>
public class ForeignStateTests : KernelTestBase
{
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"fwl-state-{Guid.NewGuid():N}");

    protected override void Cleanup()
    {
        if (Directory.Exists(_scratch))
        {
            Directory.Delete(_scratch, recursive: true);
        }
    }

    [Fact]
    public void A_catch_all_element_is_skipped_by_del_without_prev_result_and_by_gc()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);
        Node.Nft("add", "element", "inet", "fwmark", $"pods4-{Vpn.ChainName}", "{ * }");

        Dataplane.Remove(PodA, null);
        var collected = Dataplane.Collect("net1", []);

        Assert.Equal(1, collected); // PodB's element; the catch-all is not ours and stays
        var set = Node.Nft("list", "set", "inet", "fwmark", $"pods4-{Vpn.ChainName}");
        Assert.Contains("*", set, StringComparison.Ordinal);
        Assert.DoesNotContain("10.88.0.5", set, StringComparison.Ordinal);
        Assert.DoesNotContain("10.88.0.6", set, StringComparison.Ordinal);
    }

    [Fact]
    public void A_catch_all_element_does_not_break_install_or_verify()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        Node.Nft("add", "element", "inet", "fwmark", $"pods4-{Vpn.ChainName}", "{ * }");

        Dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn);

        Assert.Empty(Dataplane.Verify(PodB, [Ip("10.88.0.6")], Vpn));
    }

    [Fact]
    public void Del_succeeds_when_the_lock_directory_cannot_be_made_and_nothing_of_the_attachment_can_exist()
    {
        var lockPath = FileInTheWay();
        var dataplane = new NftDataplane(Node.Path, lockPath);

        dataplane.Remove(PodA, [Ip("10.88.0.5")]);
        dataplane.Remove(PodA, null);

        Assert.Equal("", Node.Ruleset());
    }

    [Fact]
    public void Del_of_an_attachment_without_elements_succeeds_without_the_lock_beside_other_pods()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        var before = Node.Ruleset();
        var dataplane = new NftDataplane(Node.Path, FileInTheWay());

        dataplane.Remove(PodB, [Ip("10.88.0.6")]);
        dataplane.Remove(PodB, null);

        Assert.Equal(before, Node.Ruleset());
    }

    [Fact]
    public void A_lock_directory_that_cannot_be_used_is_named_with_the_fix_when_there_is_something_to_change()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        var lockPath = FileInTheWay();
        var dataplane = new NftDataplane(Node.Path, lockPath);

        foreach (var action in new Action[] { () => dataplane.Remove(PodA, null), () => dataplane.Install(PodB, [Ip("10.88.0.6")], Vpn) })
        {
            var e = Assert.Throws<DataplaneException>(action);

            var blocker = Path.GetDirectoryName(lockPath)!;
            Assert.Equal(DataplaneFailure.Failed, e.Kind); // CNI code 5 (FwmarkPlugin.CodeOf)
            Assert.Equal($"failed to use fwmark's state directory {blocker}: {blocker} is a file, not a directory; move it away so fwmark can create the directory {blocker}", e.Message);
        }

        Assert.Contains("10.88.0.5", Node.Ruleset(), StringComparison.Ordinal); // nothing was removed without the lock
    }

    /// <summary>A lock path whose directory is a regular file: the directory can never be created.</summary>
    private string FileInTheWay()
    {
        Directory.CreateDirectory(_scratch);
        var blocker = Path.Combine(_scratch, "run-fwmark");
        File.WriteAllText(blocker, "not a directory");
        return Path.Combine(blocker, "fwmark.lock");
    }
}
