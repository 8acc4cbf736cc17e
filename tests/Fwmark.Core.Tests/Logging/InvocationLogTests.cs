using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Logging;
using Fwmark.Core.Tests.Fakes;

namespace Fwmark.Core.Tests.Logging;

/// <summary>logFile/logLevel through the real protocol layer: one JSON line per invocation, and never a failed CNI call because of the log.</summary>
public sealed class InvocationLogTests : IDisposable
{
    private const string Stdin = """
        {
          "capabilities": {"io.kubernetes.cri.pod-annotations": true},
          "cniVersion": "1.0.0", "name": "mustredirect", "type": "fwmark",
          "marks": {"vpn": {"mark": 16, "mask": 16}},
          LOGKEYS
          "prevResult": {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/var/run/netns/x"}],
                         "ips": [{"address": "10.97.0.3/24", "interface": 0}, {"address": "2001:db8:97::3/64", "interface": 0}]},
          "runtimeConfig": {"io.kubernetes.cri.pod-annotations": {"cni.fwmark.net/name": "vpn"}}
        }
        """;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fwmark-log-{Guid.NewGuid():N}");
    private readonly RecordingDataplane _dataplane = new();
    private readonly StringWriter _stdout = new();
    private readonly StringWriter _stderr = new();

    public InvocationLogTests() => Directory.CreateDirectory(_dir);

    private string LogPath => Path.Combine(_dir, "fwmark.log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Add_appends_one_line_with_verb_container_pod_mark_why_addresses_duration_and_outcome()
    {
        var exit = Run("ADD", WithLog(LogPath));

        Assert.Equal(0, exit);
        var line = Assert.Single(Lines());
        Assert.Equal("info", (string?)line["level"]);
        Assert.Equal("ADD", (string?)line["verb"]);
        Assert.Equal("mustredirect", (string?)line["network"]);
        Assert.Equal(Requests.Container, (string?)line["container"]);
        Assert.Equal("eth0", (string?)line["ifname"]);
        Assert.Equal("default/web", (string?)line["pod"]);
        Assert.Equal("vpn", (string?)line["mark"]);
        Assert.Equal("0x10/0x10", (string?)line["value"]);
        Assert.Equal("annotation cni.fwmark.net/name", (string?)line["why"]);
        Assert.Equal(["10.97.0.3", "2001:db8:97::3"], line["addresses"]!.AsArray().Select(a => (string)a!));
        Assert.InRange((double)line["durationMs"]!, 0, 10_000);
        Assert.Equal("ok", (string?)line["outcome"]);
        Assert.True(DateTime.TryParse((string?)line["time"], out _));

        Run("DEL", WithLog(LogPath));
        Assert.Equal(["ADD", "DEL"], Lines().Select(l => (string)l["verb"]!));
    }

    [Fact]
    public void A_failed_add_is_logged_with_its_code_and_message_and_the_cni_error_is_unchanged()
    {
        var bad = WithLog(LogPath).Replace("\"mask\": 16", "\"mask\": 0", StringComparison.Ordinal);

        var exit = Run("ADD", bad);

        Assert.Equal(1, exit);
        var error = JsonNode.Parse(_stdout.ToString())!;
        Assert.Equal(7, (int)error["code"]!);
        var line = Assert.Single(Lines());
        Assert.Equal("error", (string?)line["level"]);
        Assert.Equal("error", (string?)line["outcome"]);
        Assert.Equal(7, (int)line["code"]!);
        Assert.Equal((string?)error["msg"], (string?)line["error"]);
    }

    [Fact]
    public void Level_error_logs_only_failures_and_debug_adds_the_decision()
    {
        Run("ADD", WithLog(LogPath, "error"));
        Assert.False(File.Exists(LogPath), "a successful ADD was logged at level error");

        Run("ADD", WithLog(LogPath, "debug"));
        var line = Assert.Single(Lines());
        Assert.Contains("marked 10.97.0.3, 2001:db8:97::3 with vpn", (string?)line["decision"]);
    }

    [Theory]
    [InlineData("missing dir")]
    [InlineData("a directory")]
    [InlineData("full disk")]
    public void A_log_that_cannot_be_written_never_fails_the_call(string kind)
    {
        var path = kind switch
        {
            "missing dir" => Path.Combine(_dir, "no-such-dir", "fwmark.log"),
            "a directory" => _dir,
            _ => "/dev/full", // every write fails with ENOSPC
        };
        var expected = new StringWriter();
        var plain = CniDispatcher.Run(Plugin(new RecordingDataplane(), TextWriter.Null), Env("ADD"), Input(WithLog(null)), expected, TextWriter.Null);

        var exit = Run("ADD", WithLog(path));

        Assert.Equal(plain, exit);
        Assert.Equal(0, exit);
        Assert.Equal(expected.ToString(), _stdout.ToString());
        Assert.Single(_dataplane.Calls);
        Assert.Contains($"fwmark: failed to write log file {path}", _stderr.ToString());
    }

    [Theory]
    [InlineData("\"logFile\": 5,", "logFile: 5 is not a string")]
    [InlineData("\"logFile\": \"fwmark.log\",", "logFile: \"fwmark.log\" is not an absolute file path")]
    [InlineData("\"logFile\": \"/var/log/\",", "logFile: \"/var/log/\" is not an absolute file path")]
    [InlineData("\"logLevel\": \"loud\",", "logLevel: \"loud\" is not a log level (expected \"error\", \"warn\", \"info\" or \"debug\")")]
    [InlineData("\"logLevel\": 3,", "logLevel: 3 is not a log level")]
    public void Invalid_log_keys_fail_add_with_an_error_naming_the_key_and_value(string keys, string message)
    {
        var exit = Run("ADD", Stdin.Replace("LOGKEYS", keys, StringComparison.Ordinal));

        Assert.Equal(1, exit);
        var error = JsonNode.Parse(_stdout.ToString())!;
        Assert.Equal(7, (int)error["code"]!);
        Assert.Contains(message, (string?)error["msg"]);
        Assert.Empty(_dataplane.Calls);
    }

    [Fact]
    public void Routing_warnings_make_the_line_a_warning()
    {
        var routed = WithLog(LogPath).Replace("\"mask\": 16}", "\"mask\": 16, \"route\": {\"table\": 100, \"device\": \"wg0\"}}", StringComparison.Ordinal);
        var routing = new RecordingRouting(_dataplane.Calls) { EnsureWarnings = ["device wg0 does not exist"] };
        var exit = CniDispatcher.Run(Plugin(_dataplane, _stderr, routing), Env("ADD"), Input(routed), _stdout, _stderr);

        Assert.Equal(0, exit);
        var line = Assert.Single(Lines());
        Assert.Equal("warn", (string?)line["level"]);
        Assert.Equal(["device wg0 does not exist"], line["warnings"]!.AsArray().Select(w => (string)w!));
    }

    private static string WithLog(string? path, string? level = null)
    {
        var keys = (path is null ? "" : $"\"logFile\": \"{path}\",") + (level is null ? "" : $"\"logLevel\": \"{level}\",");
        return Stdin.Replace("LOGKEYS", keys, StringComparison.Ordinal);
    }

    private static LoggingPlugin Plugin(RecordingDataplane dataplane, TextWriter stderr, RecordingRouting? routing = null)
    {
        var record = new InvocationRecord();
        return new LoggingPlugin(new FwmarkPlugin(dataplane, stderr, routing ?? new RecordingRouting(dataplane.Calls), record: record), record, Stopwatch.GetTimestamp(), stderr);
    }

    private static Dictionary<string, string?> Env(string command) => new()
    {
        ["CNI_COMMAND"] = command,
        ["CNI_CONTAINERID"] = Requests.Container,
        ["CNI_NETNS"] = "/var/run/netns/x",
        ["CNI_IFNAME"] = "eth0",
        ["CNI_PATH"] = "/opt/cni/bin",
        ["CNI_ARGS"] = "K8S_POD_NAME=web;IgnoreUnknown=1;K8S_POD_NAMESPACE=default",
    };

    private static MemoryStream Input(string stdin) => new(Encoding.UTF8.GetBytes(stdin));

    private int Run(string command, string stdin) => CniDispatcher.Run(Plugin(_dataplane, _stderr), Env(command), Input(stdin), _stdout, _stderr);

    private List<JsonObject> Lines() =>
        [.. File.ReadAllLines(LogPath).Select(l => JsonNode.Parse(l)!.AsObject())];
}
