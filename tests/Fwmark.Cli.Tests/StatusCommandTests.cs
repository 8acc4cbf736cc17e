using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fwmark.Core;
using Fwmark.Core.Inspection;
using Fwmark.Core.Status;

namespace Fwmark.Cli.Tests;

/// <summary>
/// <c>fwmark status</c> in-process over fakes: help, usage errors, exit codes, and that every JSON field it emits
/// is in docs/cli.md's schema table (and the other way round). The kernel side is tested in namespaces by
/// Fwmark.E2E.Tests (Status/).
/// </summary>
public partial class StatusCommandTests
{
    private static readonly AttachmentOwner Owner = new("net", "c0ffee", "eth0");

    [Fact]
    public void Help_names_every_option_the_outputs_and_the_exit_codes()
    {
        var run = CliRun.Of("status", "--help");

        Assert.Equal(ExitCodes.Ok, run.Exit);
        foreach (var text in new[] { "--conf-dir DIR", "--json", "--prometheus", "--run-dir DIR", "\"version\": 1", "not-in-kernel", "no-record", "textfile collector" })
        {
            Assert.Contains(text, run.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("status", CliRun.Of("--help").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_and_prometheus_together_is_a_usage_error()
    {
        var run = CliRun.Of("status", "--json", "--prometheus");

        Assert.Equal(ExitCodes.Usage, run.Exit);
        Assert.Contains("--json and --prometheus cannot be combined", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_table_is_exit_1_with_the_sentence_and_the_rest_still_shown()
    {
        using var dir = ConfDir();
        var services = new FakeServices();
        services.MarkingFake.Fail = new DataplaneException(DataplaneFailure.Unavailable, "nf_tables is not available");

        var run = CliRun.Of(services, "status", "--conf-dir", dir.Path, "--json", "--run-dir", dir.Path);

        Assert.Equal(ExitCodes.Failed, run.Exit);
        var report = JsonNode.Parse(run.Stdout)!;
        Assert.False((bool)report["complete"]!);
        Assert.Equal("failed to read table inet fwmark: nf_tables is not available", (string?)report["problems"]![0]);
        Assert.Equal("vpn", (string?)report["marks"]![0]!["name"]);
    }

    [Fact]
    public void Every_json_field_is_in_the_documented_schema_and_every_documented_field_is_emitted()
    {
        using var dir = ConfDir();
        var services = new FakeServices();
        services.MarkingFake.Snapshot = new MarkingSnapshot(true, [Vpn], [new MarkedElement(Vpn, "pods4-x", MarkedKeyKind.IPv4, "10.88.0.5", Owner.Tag, new ElementCounter(7, 700))], true);
        services.NodeFake.RuleList.Add(new NodeRule(AddressFamily.InterNetwork, 1001, 0x10, 0x10, 100, true, false, null, 243));

        var run = CliRun.Of(services, "status", "--conf-dir", dir.Path, "--json", "--run-dir", dir.Path);

        Assert.Equal(ExitCodes.Ok, run.Exit);
        var emitted = Paths(JsonNode.Parse(run.Stdout)!, "").ToHashSet(StringComparer.Ordinal);
        var doc = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Docs", "cli.md"));
        var section = doc[doc.IndexOf("### JSON (`--json`), version 1", StringComparison.Ordinal)..doc.IndexOf("### `--prometheus`", StringComparison.Ordinal)];
        var documented = Documented(section);
        foreach (var path in emitted)
        {
            Assert.True(documented.Contains(path), $"status --json emits {path}, which docs/cli.md does not document");
        }

        foreach (var path in documented)
        {
            Assert.True(emitted.Contains(path), $"docs/cli.md documents {path}, which status --json does not emit");
        }

        var attachment = JsonNode.Parse(run.Stdout)!["attachments"]![0]!;
        Assert.Equal(("no-record", "net", 7UL), ((string?)attachment["state"], (string?)attachment["network"], (ulong)attachment["packets"]!));
        var routing = JsonNode.Parse(run.Stdout)!["marks"]![0]!["routing"]!;
        Assert.True((bool)routing["ipv4"]!["rule"]!);
        Assert.False((bool)routing["ipv6"]!["rule"]!);
    }

    private static readonly MarkSpec Vpn = new("vpn", 0x10, 0x10);

    private static TempDir ConfDir()
    {
        var dir = new TempDir();
        dir.Write("10-net.conflist", """{"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "bridge"}, {"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 100, "device": "vpn0"}}}}]}""");
        return dir;
    }

    /// <summary>Every field path of the document, arrays as "[]" ("marks[].routing.ipv4.rule").</summary>
    private static IEnumerable<string> Paths(JsonNode node, string prefix) => node switch
    {
        JsonObject o => o.SelectMany(p => new[] { Join(prefix, p.Key) }.Concat(p.Value is null ? [] : Paths(p.Value, Join(prefix, p.Key)))),
        JsonArray a => a.Where(i => i is not null).SelectMany(i => Paths(i!, prefix + "[]")).Distinct(),
        _ => [],
    };

    private static string Join(string prefix, string key) => prefix.Length == 0 ? key : $"{prefix}.{key}";

    /// <summary>The paths the schema table names: "`a.b`, `.c`" rows, with "….x" continuing the last row that ends with ":".</summary>
    private static HashSet<string> Documented(string section)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        var parents = new List<string>();
        foreach (var line in section.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal) || l.StartsWith("| `…", StringComparison.Ordinal)))
        {
            var cells = line.Split('|');
            var names = Code().Matches(cells[1]).Select(m => m.Groups[1].Value).ToList();
            var current = new List<string>();
            string? first = null;
            foreach (var name in names)
            {
                if (name.StartsWith('…'))
                {
                    current.AddRange(parents.Select(p => p + name[1..]));
                }
                else if (name.StartsWith('.') && first is not null)
                {
                    current.Add(first[..first.LastIndexOf('.')] + name);
                }
                else
                {
                    first = name;
                    current.Add(name);
                }
            }

            foreach (var path in current)
            {
                paths.Add(path);
                // "a[].b.c" documents "a" and "a[].b" as well.
                for (var cut = path.LastIndexOf('.'); cut > 0; cut = path.LastIndexOf('.', cut - 1))
                {
                    paths.Add(path[..cut].TrimEnd('[', ']'));
                    paths.Add(path[..cut]);
                }
            }

            if (cells[2].TrimEnd().EndsWith(':'))
            {
                parents = [.. names.Where(n => !n.StartsWith('…'))];
            }

            paths.UnionWith(paths.Where(p => p.EndsWith("[]", StringComparison.Ordinal)).Select(p => p[..^2]).ToList());
        }

        paths.RemoveWhere(p => p.EndsWith("[]", StringComparison.Ordinal));
        return paths;
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();
}
