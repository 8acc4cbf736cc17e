namespace Fwmark.Cli.Tests;

public class HelpAndExitCodeTests
{
    public static TheoryData<string> Commands => [.. CommandTable.All.Select(c => c.Name)];

    [Fact]
    public void The_main_help_lists_every_command_the_shared_options_and_the_exit_codes()
    {
        var run = CliRun.Of("--help");

        Assert.Equal(ExitCodes.Ok, run.Exit);
        Assert.Contains("reconcile", run.Stdout);
        foreach (var command in CommandTable.All)
        {
            Assert.Contains($"  fwmark {command.Name}", run.Stdout);
            Assert.Contains(command.Summary, run.Stdout);
        }

        foreach (var option in new[] { "--conf-dir DIR", "--json", "--help" })
        {
            Assert.Contains(option, run.Stdout);
        }

        AssertExitCodeTable(run.Stdout);
        Assert.Equal(run.Stdout, CliRun.Of("help").Stdout);
        Assert.Equal(run.Stdout, CliRun.Of("-h").Stdout);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_command_answers_help_with_its_options_and_the_exit_codes(string name)
    {
        var command = CommandTable.Find(name)!;

        var run = CliRun.Of(name, "--help");

        Assert.Equal(ExitCodes.Ok, run.Exit);
        Assert.StartsWith($"fwmark {name}", run.Stdout);
        Assert.Contains(command.Description.Trim().Split('\n')[0], run.Stdout);
        foreach (var option in command.Options)
        {
            Assert.Contains($"[{option}]", run.Stdout);
            Assert.Contains(option.Help, run.Stdout);
        }

        AssertExitCodeTable(run.Stdout);
        Assert.Equal(run.Stdout, CliRun.Of("help", name).Stdout);
        Assert.Equal(run.Stdout, CliRun.Of(name, "-h").Stdout);
    }

    [Fact]
    public void No_command_prints_the_help_on_stderr_and_is_a_usage_error()
    {
        var run = CliRun.Of();

        Assert.Equal(ExitCodes.Usage, run.Exit);
        Assert.Equal("", run.Stdout);
        Assert.Contains("Operator commands", run.Stderr);
    }

    [Theory]
    [InlineData("status-of-everything", "fwmark: unknown command \"status-of-everything\" (try fwmark --help)\n")]
    [InlineData("--json", "fwmark: a command comes first \"--json\" (try fwmark --help)\n")]
    public void An_unknown_command_is_a_usage_error(string word, string message)
    {
        var run = CliRun.Of(word);

        Assert.Equal(ExitCodes.Usage, run.Exit);
        Assert.Equal(message, run.Stderr);
    }

    [Fact]
    public void Version_prints_the_version_in_text_and_json()
    {
        var text = CliRun.Of("version");
        var json = CliRun.Of("version", "--json");

        Assert.Equal(ExitCodes.Ok, text.Exit);
        Assert.Equal($"fwmark {ThisAssembly.Version} (CNI 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)\n", text.Stdout);
        Assert.Equal(text.Stdout, CliRun.Of("--version").Stdout);
        var parsed = System.Text.Json.Nodes.JsonNode.Parse(json.Stdout)!;
        Assert.Equal(ThisAssembly.Version, (string?)parsed["version"]);
        Assert.Equal(5, parsed["cniVersions"]!.AsArray().Count);
    }

    [Fact]
    public void An_unexpected_exception_is_an_internal_error_with_its_message_never_a_crash()
    {
        using var dir = new TempDir();
        dir.Write("10-a.conflist", """{"name": "a", "plugins": [{"type": "fwmark", "marks": {"vpn": {"mark": 16, "route": {"table": 100}}}}]}""");
        var services = new FakeServices { Throw = new InvalidOperationException("the backend broke") };

        var run = CliRun.Of(services, "reconcile", "--conf-dir", dir.Path);

        Assert.Equal(ExitCodes.Internal, run.Exit);
        Assert.Equal("fwmark reconcile: internal error: InvalidOperationException: the backend broke\n", run.Stderr);
    }

    [Fact]
    public void Exit_codes_are_distinct()
    {
        Assert.Equal(ExitCodes.All.Count, ExitCodes.All.Select(c => c.Code).Distinct().Count());
        Assert.Equal([0, 1, 2, 3], ExitCodes.All.Select(c => c.Code));
    }

    private static void AssertExitCodeTable(string help)
    {
        Assert.Contains("Exit codes:", help);
        foreach (var (code, name, meaning) in ExitCodes.All)
        {
            Assert.Contains($"  {code} {name.PadRight(8)} {meaning}", help);
        }
    }
}
