using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fwmark.Cli.Doctor;
using Fwmark.Core.Inspection;

namespace Fwmark.Cli.Tests;

/// <summary>The doctor's registry, report shape and docs, in-process over a fake node (the checks themselves are tested in namespaces by Fwmark.E2E.Tests).</summary>
public partial class DoctorTests
{
    [Fact]
    public void Every_check_has_a_kebab_case_id_a_title_a_meaning_and_a_fix()
    {
        var checks = DoctorChecks.All.ToList();

        Assert.True(checks.Count >= 13, $"only {checks.Count} checks registered");
        Assert.Equal(checks.Count, checks.Select(c => c.Id).Distinct().Count());
        foreach (var check in checks)
        {
            Assert.Matches(KebabCase(), check.Id);
            Assert.False(string.IsNullOrWhiteSpace(check.Title) || string.IsNullOrWhiteSpace(check.Meaning) || string.IsNullOrWhiteSpace(check.Fix), check.Id);
        }
    }

    [Fact]
    public void Troubleshooting_md_has_one_section_per_check_and_none_for_checks_that_do_not_exist()
    {
        var doc = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Docs", "troubleshooting.md"));
        var sections = Heading().Matches(doc).Select(m => m.Groups[1].Value).Where(h => h != "JSON").ToList();

        Assert.Equal(DoctorChecks.All.Select(c => c.Id).Order(), sections.Order());
        foreach (var check in DoctorChecks.All)
        {
            var section = doc[doc.IndexOf($"## {check.Id}\n", StringComparison.Ordinal)..];
            // The section opens with the check's title, so the doc says what doctor prints.
            Assert.True(section.Split("\n## ")[0].Contains($"**{check.Title}.**", StringComparison.OrdinalIgnoreCase), $"section {check.Id} does not open with **{check.Title}.**");
        }
    }

    [Fact]
    public void The_json_report_has_the_documented_keys_and_exit_1_when_a_check_finds_a_problem()
    {
        using var dir = new TempDir();
        dir.Write("10-net.conflist", """{"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "bridge"}, {"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16}}}]}""");
        var services = new FakeServices();

        var run = CliRun.Of(services, "doctor", "--conf-dir", dir.Path, "--json", "--bin-dir", dir.Path, "--run-dir", dir.Path);

        Assert.Equal(ExitCodes.Failed, run.Exit);
        var report = JsonNode.Parse(run.Stdout)!.AsObject();
        Assert.Equal(["healthy", "confDir", "problems", "checks"], report.Select(p => p.Key));
        Assert.False((bool)report["healthy"]!);
        var checks = report["checks"]!.AsArray().Select(c => c!.AsObject()).ToList();
        Assert.Equal(DoctorChecks.All.Select(c => c.Id), checks.Select(c => (string)c["id"]!));
        foreach (var check in checks)
        {
            Assert.Equal(["id", "title", "status", "note", "meaning", "fix", "findings"], check.Select(p => p.Key));
            Assert.Contains((string)check["status"]!, new[] { "ok", "skipped", "problem", "error" });
        }

        var steered = checks.Single(c => (string?)c["id"] == "mark-not-steered");
        Assert.Equal("problem", (string?)steered["status"]);
        Assert.Equal(2, steered["findings"]!.AsArray().Count);
        Assert.Equal((int)report["problems"]!, checks.Sum(c => (string?)c["status"] == "error" ? 1 : c["findings"]!.AsArray().Count));
    }

    [Fact]
    public void A_check_that_cannot_read_the_node_is_an_error_and_unhealthy_never_a_crash()
    {
        using var dir = new TempDir();
        dir.Write("10-net.conflist", """{"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "bridge"}, {"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16}}}]}""");
        var services = new FakeServices { Throw = new IOException("netlink socket refused") };

        var run = CliRun.Of(services, "doctor", "--conf-dir", dir.Path);

        Assert.Equal(ExitCodes.Failed, run.Exit);
        Assert.Contains("ERROR    nftables-unusable", run.Stdout);
        Assert.Contains("failed to run the check: netlink socket refused", run.Stdout);
    }

    [Fact]
    public void A_healthy_fake_node_exits_0()
    {
        using var dir = new TempDir();
        dir.Write("10-net.conflist", """{"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "bridge"}, {"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16}}}]}""");
        var bin = dir.Write("bin/fwmark", "");
        File.SetUnixFileMode(bin, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        dir.Write("run/agent.heartbeat", $"{Environment.ProcessId}\n");
        var services = new FakeServices();
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            services.NodeFake.RuleList.Add(new NodeRule(family, 1001, 0x10, 0x10, 100, IsLookup: true, HasOtherSelectors: false, null, 243));
            services.NodeFake.RouteList.Add(new NodeRoute(family, 100, 0, NodeRouteType.Unreachable, null, uint.MaxValue));
        }

        var run = CliRun.Of(services, "doctor", "--conf-dir", dir.Path, "--bin-dir", Path.Combine(dir.Path, "bin"), "--run-dir", Path.Combine(dir.Path, "run"));

        Assert.True(run.Exit == ExitCodes.Ok, run.ToString());
        Assert.EndsWith("healthy: no problem found\n", run.Stdout);
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex KebabCase();

    [GeneratedRegex(@"^## (\S+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
