namespace Fwmark.Cni.Tests;

public class VersionVerbTests
{
    private const string LatestReply = """{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}""" + "\n";

    private static readonly Dictionary<string, string?> VersionOnly = new() { ["CNI_COMMAND"] = "VERSION" };

    [Theory]
    [InlineData("")]
    [InlineData("   \n")]
    [InlineData("this is not json")]
    [InlineData("[1,2,3]")]
    [InlineData("""{"cniVersion": 4}""")]
    [InlineData("""{"cniVersion": "latest"}""")]
    [InlineData("""{"name": "x"}""")]
    public void Any_stdin_gets_the_latest_version_reply(string stdin)
    {
        var outcome = Invocation.Run(VersionOnly, stdin);

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(LatestReply, outcome.Stdout);
        Assert.Empty(outcome.Plugin.Calls);
    }

    [Fact]
    public void A_closed_stdin_does_not_hang_or_fail()
    {
        var outcome = Invocation.Run(VersionOnly, Stream.Null);

        Assert.Equal(LatestReply, outcome.Stdout);
    }

    [Fact]
    public void Attachment_variables_are_not_needed_and_not_looked_at()
    {
        var env = new Dictionary<string, string?> { ["CNI_COMMAND"] = "VERSION", ["CNI_IFNAME"] = "not/valid", ["CNI_CONTAINERID"] = "-bad" };

        var outcome = Invocation.Run(env, """{"cniVersion":"0.4.0"}""");

        Assert.Equal(0, outcome.ExitCode);
        Assert.StartsWith("""{"cniVersion":"0.4.0","supportedVersions":""", outcome.Stdout);
    }
}
