using System.Text.Json.Nodes;

namespace Fwmark.Cli.Tests;

/// <summary>reconcile through the CLI: what it reads, how it reports files it cannot read, its exit codes.</summary>
public class ReconcileCommandTests
{
    private const string Routed = """{"cniVersion": "1.0.0", "name": "cbr0", "plugins": [{"type": "bridge"}, {"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 100, "device": "wg0"}}}}]}""";

    [Fact]
    public void A_matching_node_exits_0_quietly_and_a_repair_is_printed()
    {
        using var dir = new TempDir();
        dir.Write("10-cbr0.conflist", Routed);
        var services = new FakeServices();

        var quiet = CliRun.Of(services, "reconcile", "--conf-dir", dir.Path);
        services.RoutingFake.Missing.Add("IPv4 rule is missing");
        var repair = CliRun.Of(services, "reconcile", "--conf-dir", dir.Path);

        Assert.Equal((0, ""), (quiet.Exit, quiet.Stdout));
        Assert.Equal(ExitCodes.Ok, repair.Exit);
        Assert.Contains("repaired (IPv4 rule is missing)", repair.Stdout);
    }

    [Fact]
    public void An_unreadable_conflist_is_named_in_a_sentence_exit_1_and_the_others_are_still_reconciled()
    {
        using var dir = new TempDir();
        var dangling = Path.Combine(dir.Path, "05-gone.conflist");
        File.CreateSymbolicLink(dangling, Path.Combine(dir.Path, "nowhere"));
        dir.Write("10-cbr0.conflist", Routed);
        var services = new FakeServices();
        services.RoutingFake.Missing.Add("IPv6 rule is missing");

        var run = CliRun.Of(services, "reconcile", "--conf-dir", dir.Path);

        Assert.Equal(ExitCodes.Failed, run.Exit);
        Assert.Contains($"failed to read {dangling}: no such file (a dangling symlink?)\n", run.Stdout);
        Assert.Equal(1, services.RoutingFake.Ensures);
    }

    [Fact]
    public void A_conflist_that_is_not_json_is_named_exit_1()
    {
        using var dir = new TempDir();
        var cut = dir.Write("10-cut.conflist", """{"name": "cut""");

        var run = CliRun.Of("reconcile", "--conf-dir", dir.Path);

        Assert.Equal(ExitCodes.Failed, run.Exit);
        Assert.Contains($"{cut}: failed to parse conflist", run.Stdout);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("file")]
    public void A_conf_dir_that_cannot_be_listed_exits_1_with_a_sentence(string kind)
    {
        using var dir = new TempDir();
        var confDir = kind == "file" ? dir.Write("not-a-dir", "") : Path.Combine(dir.Path, "no-such-dir");

        var text = CliRun.Of("reconcile", "--conf-dir", confDir);
        var json = CliRun.Of("reconcile", "--conf-dir", confDir, "--json");

        Assert.Equal(ExitCodes.Failed, text.Exit);
        var sentence = $"failed to read conf dir {confDir}: {(kind == "file" ? "not a directory" : "no such directory")}";
        Assert.Equal(sentence + "\n", text.Stderr);
        Assert.Equal(ExitCodes.Failed, json.Exit);
        var parsed = JsonNode.Parse(json.Stdout)!;
        Assert.False((bool)parsed["nodeMatches"]!);
        Assert.Equal(sentence, (string?)parsed["messages"]![0]);
    }

    [Fact]
    public void Json_reports_the_repairs()
    {
        using var dir = new TempDir();
        dir.Write("10-cbr0.conflist", Routed);
        var services = new FakeServices();
        services.RoutingFake.Missing.Add("IPv4 rule is missing");

        var run = CliRun.Of(services, "reconcile", "--conf-dir", dir.Path, "--json");

        Assert.Equal(ExitCodes.Ok, run.Exit);
        var parsed = JsonNode.Parse(run.Stdout)!;
        Assert.True((bool)parsed["nodeMatches"]!);
        Assert.Equal(1, (int)parsed["repaired"]!);
        Assert.Equal(dir.Path, (string?)parsed["confDir"]);
        Assert.Contains("repaired (IPv4 rule is missing)", (string?)parsed["messages"]![0]);
    }
}
