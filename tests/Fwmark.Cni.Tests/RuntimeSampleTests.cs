using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fwmark.Cni.Tests;

/// <summary>
/// Replays what containerd, podman and cnitool really handed a chained plugin (shared/samples, copied into the output by the build: one
/// JSON file per call with "cmd", "env" and "stdin") and checks the decoded request against the raw
/// sample, read here independently of the decoder.
/// </summary>
public class RuntimeSampleTests
{
    private static readonly string SamplesDir = Path.Combine(AppContext.BaseDirectory, "Samples");

    private const string Annotations = "io.kubernetes.cri.pod-annotations";

    public static TheoryData<string> Samples => [.. SampleFiles()];

    [Fact]
    public void The_samples_are_there()
    {
        Assert.True(Directory.Exists(SamplesDir), $"{SamplesDir} is missing: these tests need the captured runtime calls");
        Assert.True(SampleFiles().Count >= 20, $"expected at least 20 captured calls, found {SampleFiles().Count}");
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_decodes_to_what_the_runtime_sent(string file)
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(SamplesDir, file)))!.AsObject();
        var env = sample["env"]!.AsObject().ToDictionary(p => p.Key, p => (string?)p.Value);
        var stdin = sample["stdin"]!.AsObject();

        var outcome = Invocation.Run(env, stdin);

        Assert.True(outcome.ExitCode == 0, outcome.Stdout);
        var request = outcome.Plugin.Single(Enum.Parse<CniCommand>((string)sample["cmd"]!, ignoreCase: true));
        Assert.Equal(env["CNI_CONTAINERID"], request.ContainerId);
        Assert.Equal(env["CNI_IFNAME"], request.IfName);
        Assert.Equal(env["CNI_NETNS"], request.Netns);
        Assert.Equal(PairsIn(env["CNI_ARGS"]!), request.Args.OrderBy(p => p.Key, StringComparer.Ordinal).ToList());
        Assert.Equal((string)stdin["cniVersion"]!, request.CniVersion);
        Assert.Equal((string)stdin["name"]!, request.NetworkName);

        var sentAnnotations = stdin["runtimeConfig"]?[Annotations];
        var gotAnnotations = request.RuntimeConfig?[Annotations];
        Assert.Equal(sentAnnotations is null, gotAnnotations is null);
        Assert.Equal(sentAnnotations?["cni.fwmark.net/name"]?.ToString(), gotAnnotations?["cni.fwmark.net/name"]?.ToString());

        var sentPrev = stdin["prevResult"];
        Assert.Equal(sentPrev is null, request.PrevResult is null);
        if (sentPrev is not null)
        {
            Assert.Equal(AddressesFor(sentPrev, request.IfName), request.PrevResult!.AddressesOf(request.IfName));
        }

        if (request.Command == CniCommand.Add)
        {
            Assert.True(JsonNode.DeepEquals(ExpectedAddOutput(sentPrev!, request.CniVersion), outcome.StdoutJson), outcome.Stdout);
        }
        else
        {
            Assert.Equal("", outcome.Stdout);
        }
    }

    [Fact]
    public void Containerd_remove_after_stop_has_no_netns_and_no_prev_result_but_keeps_annotations()
    {
        var request = Replay("containerd/03-RemovePodSandbox-DEL.json");

        Assert.Equal("", request.Netns);
        Assert.Null(request.PrevResult);
        Assert.Equal("vpn", (string)request.RuntimeConfig![Annotations]!["cni.fwmark.net/name"]!);
        Assert.Equal("default", request.Args["K8S_POD_NAMESPACE"]);
    }

    [Fact]
    public void Podman_passes_the_callers_cni_args_but_no_annotations()
    {
        var request = Replay("podman/01-run-with-env-annotation-ip-mac-port.after-bridge.1-ADD.json");

        Assert.Equal("vpn", request.Args["FWMARK_NAME"]);
        Assert.Equal("0.4.0", request.CniVersion);
        Assert.Null(request.RuntimeConfig![Annotations]);
        Assert.Equal([IPAddress.Parse("10.89.0.50")], request.PrevResult!.AddressesOf("eth0"));
    }

    [Fact]
    public void Podman_del_after_a_failed_add_has_neither_prev_result_nor_runtime_config()
    {
        var request = Replay("podman/07-failing-plugin.last.1-DEL.json");

        Assert.Null(request.PrevResult);
        Assert.Null(request.RuntimeConfig);
    }

    private static CniRequest Replay(string file)
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(SamplesDir, file)))!.AsObject();
        var outcome = Invocation.Run(sample["env"]!.AsObject().ToDictionary(p => p.Key, p => (string?)p.Value), sample["stdin"]!);
        return Assert.Single(outcome.Plugin.Calls).Request;
    }

    private static List<string> SampleFiles() => !Directory.Exists(SamplesDir)
        ? []
        : [.. Directory.EnumerateFiles(SamplesDir, "*.json", SearchOption.AllDirectories)
            .Where(f => JsonNode.Parse(File.ReadAllText(f)) is JsonObject o && o["env"] is JsonObject && o["stdin"] is JsonObject)
            .Select(f => Path.GetRelativePath(SamplesDir, f))
            .Order(StringComparer.Ordinal)];

    /// <summary>Every "K=V" pair of CNI_ARGS, later duplicates winning, in key order.</summary>
    private static List<KeyValuePair<string, string>> PairsIn(string cniArgs)
    {
        var pairs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(cniArgs, "(?:^|;)([^;=]+)=([^;]*)"))
        {
            pairs[m.Groups[1].Value] = m.Groups[2].Value;
        }

        return [.. pairs];
    }

    private static List<IPAddress> AddressesFor(JsonNode prevResult, string ifName)
    {
        var names = prevResult["interfaces"]?.AsArray().Select(i => (string)i!["name"]!).ToList() ?? [];
        return [.. prevResult["ips"]!.AsArray()
            .Where(ip => ip!["interface"] is null || names[(int)ip["interface"]!] == ifName)
            .Select(ip => IPAddress.Parse(((string)ip!["address"]!).Split('/')[0]))];
    }

    /// <summary>The sample's prevResult with our documented differences: an empty "dns" is left out.</summary>
    private static JsonNode ExpectedAddOutput(JsonNode prevResult, string version)
    {
        var expected = prevResult.DeepClone().AsObject();
        expected["cniVersion"] = version;
        if (expected["dns"] is JsonObject { Count: 0 })
        {
            expected.Remove("dns");
        }

        return expected;
    }
}
