using System.Text.RegularExpressions;
using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;

namespace Fwmark.E2E.Tests.Records;

/// <summary>
/// Issue 8 ("also found"), with the published binary: a state directory (lock, records) that cannot be
/// created. On main, DEL failed with a bare I/O error and the published binary's messages were resource keys
/// (IO_FileExists_Name); now ADD names the path and the fix, and DEL of an attachment succeeds when nothing of
/// it exists in the kernel.
/// </summary>
public sealed partial class StateDirTests
{
    [Fact]
    public void An_unusable_state_dir_is_named_with_the_fix_and_del_of_an_attachment_without_elements_still_succeeds()
    {
        using var bed = RoutedBed.Create();
        var marked = bed.AddMarked("marked");
        var plain = bed.AddPlain("plain");
        var blocker = Path.Combine(bed.Bed.WorkDir, "not-a-dir");
        File.WriteAllText(blocker, "a file where fwmark's state directory should be");
        var broken = Path.Combine(blocker, "run");
        var before = NftOracle.Stateless(bed.Node);

        // ADD of a new pod: refused before any kernel change, with the path and what to do.
        var newcomer = bed.Network.NewPod("newcomer", FwmarkPluginConfig.Annotated("vpn"));
        var bridge = bed.Network.Chain.Invoke("bridge", CniChain.Add, newcomer.Attachment, null);
        Assert.True(bridge.Succeeded, bridge.Describe());
        before = NftOracle.Stateless(bed.Node);
        var add = Exec(bed, CniChain.Add, newcomer.Attachment, bridge.Json, broken);
        Assert.True(add.ErrorCode is not null && add.ExitCode == 1, add.Describe());
        var message = (string)add.Json!["msg"]!;
        Assert.Contains($"{blocker} is a file, not a directory; move it away", message, StringComparison.Ordinal);
        AssertPlainSentence(message);
        Assert.Equal(before, NftOracle.Stateless(bed.Node));

        // DEL of an attachment that has no element: nothing of it can exist, so it succeeds.
        var del = Exec(bed, CniChain.Del, plain.Attachment, null, broken);
        Assert.True(del.Succeeded, del.Describe());

        // DEL of a marked attachment cannot proceed without the lock, and says why.
        var delMarked = Exec(bed, CniChain.Del, marked.Attachment, marked.AddResult, broken);
        Assert.True(delMarked.ExitCode == 1, delMarked.Describe());
        AssertPlainSentence((string)delMarked.Json!["msg"]!);
        Assert.Equal(before, NftOracle.Stateless(bed.Node));
    }

    private static CniExecResult Exec(RoutedBed bed, string verb, CniAttachment attachment, System.Text.Json.Nodes.JsonNode? prevResult, string stateDir)
    {
        var env = bed.Network.Chain.Environment(verb, attachment);
        env[NodeTestbed.StateDirVariable] = stateDir;
        return bed.Plugin.Fwmark(bed.Network.Chain, env, bed.Network.Chain.Stdin("fwmark", attachment, prevResult).ToJsonString());
    }

    private static void AssertPlainSentence(string message) =>
        Assert.False(ResourceKey().IsMatch(message), $"the message holds a resource key: {message}");

    [GeneratedRegex(@"\b[A-Z][A-Za-z]*_[A-Za-z_]+\b|\b[A-Z][a-z]+(?:[A-Z][a-z0-9]+){2,}\b")]
    private static partial Regex ResourceKey();
}
