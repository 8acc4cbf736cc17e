using Fwmark.Core;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// Writers that do not share the flock (two invocations whose /run differs): only the ruleset
/// generation sent with each batch keeps one commit from silently dropping the other's work.
/// </summary>
public class GenerationCheckTests : KernelTestBase
{
    private const int Rounds = 24;

    [Fact]
    public void Two_first_installs_of_new_marks_under_different_locks_keep_both_marks_lookups()
    {
        var lost = new List<string>();
        for (var round = 0; round < Rounds; round++)
        {
            using var scratch = new CleanupStack();
            var node = Netns.CreateUnique("fwl", scratch);
            var lockRoot = Path.Combine(Path.GetTempPath(), $"fwl-gen-{Guid.NewGuid():N}");
            try
            {
                var first = new NftDataplane(node.Path, Path.Combine(lockRoot, "a", "fwmark.lock"));
                var second = new NftDataplane(node.Path, Path.Combine(lockRoot, "b", "fwmark.lock"));
                // Two threads released together, as two runtimes exec'ing ADD at the same moment.
                using var start = new Barrier(2);
                var failures = new List<Exception>();
                var threads = new[]
                {
                    new Thread(() => Run(start, failures, () => first.Install(PodA, [Ip("10.88.0.5")], Vpn))),
                    new Thread(() => Run(start, failures, () => second.Install(PodB, [Ip("10.88.0.6")], Gw2))),
                };
                foreach (var thread in threads)
                {
                    thread.Start();
                }

                foreach (var thread in threads)
                {
                    thread.Join();
                }

                Assert.Empty(failures);

                var ruleset = NftOracle.Ruleset(node);
                foreach (var chain in new[] { Vpn.ChainName, Gw2.ChainName })
                {
                    if (!ruleset.Contains($"ip saddr @pods4-{chain} goto {chain}", StringComparison.Ordinal))
                    {
                        lost.Add($"round {round}: prerouting lost the lookups of {chain}");
                    }
                }

                // Lookups present but duplicated (both appended to the same chain) is a fault too.
                lost.AddRange(first.Verify(PodA, [Ip("10.88.0.5")], Vpn).Select(p => $"round {round}: {p}"));
                lost.AddRange(second.Verify(PodB, [Ip("10.88.0.6")], Gw2).Select(p => $"round {round}: {p}"));
            }
            finally
            {
                if (Directory.Exists(lockRoot))
                {
                    Directory.Delete(lockRoot, recursive: true);
                }
            }
        }

        Assert.Empty(lost);
    }

    [Fact]
    public void A_batch_planned_on_an_older_generation_is_refused_whole_and_applies_nothing()
    {
        Dataplane.Install(PodA, [Ip("10.88.0.5")], Vpn);
        using var socket = Netlink.NetlinkConversation.Open(Netlink.NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        var planned = new NfTables.NftClient(socket, FwmarkRuleset.Table).GetGeneration();
        Node.Run("nft", "add", "table", "inet", "other"); // someone else commits in between
        var before = NftOracle.Ruleset(Node);
        var transaction = new NfTables.NftTransaction(FwmarkRuleset.Table)
            .Add(new NfTables.AddElementOp(new NfTables.NftElement(FwmarkRuleset.Set4(Vpn.ChainName).Name, Ip("10.88.0.6"), PodB.Tag)));

        var refused = Assert.Throws<NfTables.NftGenerationChangedException>(() => transaction.Commit(socket, planned));

        Assert.Equal(planned, refused.Generation);
        Assert.Equal(before, NftOracle.Ruleset(Node));
        transaction.Commit(socket, new NfTables.NftClient(socket, FwmarkRuleset.Table).GetGeneration()); // current: applies
        Assert.Contains("10.88.0.6", NftOracle.Ruleset(Node), StringComparison.Ordinal);
    }

    private static void Run(Barrier start, List<Exception> failures, Action install)
    {
        start.SignalAndWait();
        try
        {
            install();
        }
        catch (Exception e)
        {
            lock (failures)
            {
                failures.Add(e);
            }
        }
    }
}
