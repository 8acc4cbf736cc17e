namespace Fwmark.Cli.Tests;

public class ParserTests
{
    [Theory]
    [InlineData("--conf-dir", "reconcile: --conf-dir needs a value (DIR)")]
    [InlineData("--conf-dir --json", "reconcile: --conf-dir needs a value (DIR)")]
    [InlineData("--conf-dir=", "reconcile: --conf-dir needs a value (DIR)")]
    [InlineData("--bogus", "reconcile: unknown option --bogus (options: --conf-dir, --root, --json)")]
    [InlineData("--json=yes", "reconcile: --json takes no value (got \"yes\")")]
    [InlineData("--json --json", "reconcile: --json given twice")]
    [InlineData("/etc/cni/net.d", "reconcile: unexpected argument \"/etc/cni/net.d\"")]
    [InlineData("-x", "reconcile: unexpected argument \"-x\"")]
    public void A_wrong_command_line_is_a_usage_error_that_names_the_culprit(string line, string message)
    {
        var run = CliRun.Of(["reconcile", .. line.Split(' ')]);

        Assert.Equal(ExitCodes.Usage, run.Exit);
        Assert.Equal("", run.Stdout);
        Assert.Equal($"fwmark: {message} (try fwmark reconcile --help)\n", run.Stderr);
    }

    [Fact]
    public void Values_are_taken_after_a_space_or_an_equals_sign()
    {
        var command = CommandTable.Find("reconcile")!;

        var spaced = CliParser.Parse(command, ["--conf-dir", "/a", "--json"]);
        var joined = CliParser.Parse(command, ["--conf-dir=/b=c"]);

        Assert.Equal("/a", spaced.ConfDir);
        Assert.True(spaced.Json);
        Assert.Equal("/b=c", joined.ConfDir);
        Assert.False(joined.Json);
        Assert.Equal(CliOption.DefaultConfDir, CliParser.Parse(command, []).ConfDir);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--bogus")]
    [InlineData("--conf-dir")]
    public void Help_wins_over_any_other_problem_of_the_line(string rest)
    {
        string[] args = ["reconcile", .. rest.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"];

        var run = CliRun.Of(args);

        Assert.Equal(ExitCodes.Ok, run.Exit);
        Assert.StartsWith("fwmark reconcile [--conf-dir DIR] [--root DIR] [--json]\n", run.Stdout);
    }
}
