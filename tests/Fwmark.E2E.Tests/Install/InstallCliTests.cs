using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Cleanup;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.E2E.Tests.Install;

/// <summary>
/// The published binary's install / uninstall / agent, as an operator runs them, on temp host roots (never the
/// machine's CNI dirs); the agent and the kernel clean-up run inside network namespaces the tests create.
/// </summary>
public sealed class InstallCliTests
{
    private const string Flannel = """
        {
          "name":"cbr0",
          "cniVersion":"1.0.0",
          "plugins":[
            {"type":"flannel","delegate":{"hairpinMode":true,"forceAddress":true,"isDefaultGateway":true}},
            {"type":"portmap","capabilities":{"portMappings":true}}
          ]
        }

        """;

    private const string Keys = """{"marks": {"vpn": {"mark": 16, "mask": 16}}}""";

    [Theory]
    [InlineData("k3s", "/var/lib/rancher/k3s/agent/etc/cni/net.d", "/var/lib/rancher/k3s/data/cni")]
    [InlineData("containerd", "/etc/cni/net.d", "/opt/cni/bin")]
    [InlineData("podman", "/etc/cni/net.d", "/usr/lib/cni")]
    public void Install_dry_run_install_again_and_uninstall_round_trip(string layout, string confDir, string binDir)
    {
        using var root = new Root();
        root.Write($"{confDir}/10-flannel.conflist", Flannel);
        root.Write($"{confDir}/50-other.conflist", Flannel.Replace("cbr0", "other", StringComparison.Ordinal));
        Directory.CreateDirectory(root.Local(binDir));
        if (layout == "podman")
        {
            root.Write("/etc/containers/containers.conf", "[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"/usr/local/libexec/cni\", \"/usr/lib/cni\"]\n");
        }

        var config = root.Write("/config.json", Keys);
        var before = root.Snapshot();

        var dry = Fwmark("install", "--root", root.Path, "--layout", layout, "--config", root.Local(config), "--dry-run");
        Assert.True(dry.Succeeded, dry.Describe());
        Assert.Contains("+++ ", dry.Stdout);
        Assert.Equal(before, root.Snapshot());

        var install = Fwmark("install", "--root", root.Path, "--layout", layout, "--config", root.Local(config));
        Assert.True(install.Succeeded, install.Describe());
        Assert.Equal(File.ReadAllBytes(FwmarkBinary.FromEnvironment()), File.ReadAllBytes(root.Local($"{binDir}/fwmark")));
        var effective = Directory.GetFiles(root.Local(confDir)).Order(StringComparer.Ordinal).First();
        var chain = JsonNode.Parse(File.ReadAllText(effective))!["plugins"]!.AsArray();
        Assert.Equal(["flannel", "portmap", "fwmark"], chain.Select(p => p!["type"]!.GetValue<string>()));
        Assert.True(chain[2]!["capabilities"]!["io.kubernetes.cri.pod-annotations"]!.GetValue<bool>());
        Assert.Equal(16, chain[2]!["marks"]!["vpn"]!["mark"]!.GetValue<int>());
        Assert.Equal(before[$"{confDir}/50-other.conflist"], root.Snapshot()[$"{confDir}/50-other.conflist"]);

        var again = Fwmark("install", "--root", root.Path, "--layout", layout, "--config", root.Local(config));
        Assert.True(again.Succeeded && again.Stdout.Contains("nothing to change", StringComparison.Ordinal), again.Describe());

        var uninstall = Fwmark("uninstall", "--root", root.Path);
        Assert.True(uninstall.Succeeded, uninstall.Describe());
        Assert.Equal(before, root.Snapshot());
    }

    [Fact]
    public void Bad_config_fails_with_the_key_and_changes_nothing()
    {
        using var root = new Root();
        root.Write("/etc/cni/net.d/10-flannel.conflist", Flannel);
        var config = root.Write("/config.json", """{"marks": {"vpn": {"mark": "sixteen"}}}""");
        var before = root.Snapshot();
        var result = Fwmark("install", "--root", root.Path, "--layout", "containerd", "--config", root.Local(config));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("marks.vpn.mark", result.Stderr);
        Assert.Equal(before, root.Snapshot());
    }

    [Fact]
    public void Agent_re_derives_after_k3s_rewrites_and_stops_cleanly_on_SIGTERM()
    {
        using var cleanup = new CleanupStack();
        var node = Netns.Create($"fwinst-{Guid.NewGuid().ToString("N")[..8]}", cleanup);
        using var root = new Root();
        const string confDir = "/var/lib/rancher/k3s/agent/etc/cni/net.d";
        var primary = root.Write($"{confDir}/10-flannel.conflist", Flannel);
        Directory.CreateDirectory(root.Local("/var/lib/rancher/k3s/data/cni"));
        var config = root.Write("/config.json", Keys);
        Assert.True(Fwmark("install", "--root", root.Path, "--layout", "k3s", "--config", root.Local(config)).Succeeded);

        using var agent = node.Start(new CommandSpec(FwmarkBinary.FromEnvironment(), "agent", "--root", root.Path) { DropInheritedPrefixes = ["CNI_"] });
        Wait(() => agent.Output.Contains("watching", StringComparison.Ordinal), TimeSpan.FromSeconds(5), () => agent.Output);

        var times = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            // As k3s does at start: the file rewritten in place, here with one more plugin each round.
            var text = round % 2 == 0 ? Flannel.Replace("\"portmap\"", "\"portmap\",\"capabilities\":{\"portMappings\":true}},{\"type\":\"bandwidth\"", StringComparison.Ordinal) : Flannel;
            var want = JsonNode.Parse(text)!["plugins"]!.AsArray().Count + 1;
            var watch = Stopwatch.StartNew();
            using (var stream = new FileStream(root.Local(primary), FileMode.Truncate, FileAccess.Write))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
            }

            Wait(() => OwnChainLength(root, confDir) == want, TimeSpan.FromSeconds(2), () => $"round {round}\n{agent.Output}");
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        TestContext.Current.TestOutputHelper?.WriteLine($"agent reaction ms: min {times[0]:F0} median {times[2]:F0} max {times[^1]:F0}");

        var stop = Stopwatch.StartNew();
        ProcessRunner.Run(new CommandSpec("kill", "-TERM", agent.Pid.ToString())).EnsureSuccess();
        Wait(() => agent.HasExited, TimeSpan.FromSeconds(2), () => agent.Output);
        Assert.Contains("fwmark agent: stopped", agent.Output);
        Assert.DoesNotContain("failure", agent.Output);
        TestContext.Current.TestOutputHelper?.WriteLine($"agent stopped {stop.ElapsedMilliseconds} ms after SIGTERM");
    }

    [Fact]
    public void Uninstall_remove_kernel_state_deletes_only_fwmarks_table_rules_and_routes()
    {
        using var bed = RoutedBed.Create();
        var pod = bed.AddMarked("before-uninstall");
        Assert.NotNull(pod);
        // Someone else's rule and route in the same table: not ours (another protocol), must stay.
        bed.Node.Ip("rule", "add", "pref", "4000", "fwmark", "0x20/0x20", "lookup", $"{RoutedBed.Table}");
        bed.Node.Ip("route", "add", "blackhole", "203.0.113.0/24", "table", $"{RoutedBed.Table}");
        Assert.NotEmpty(ExpectedRouting.OurRules(bed.Node, AddressFamily.InterNetwork));

        using var root = new Root();
        var result = FwmarkCli.Run(bed.Node, bed.FwmarkBinary, "uninstall", "--root", root.Path, "--remove-kernel-state");
        Assert.True(result.Succeeded, result.Describe());

        Assert.False(bed.Node.Exec("nft", "list", "table", "inet", "fwmark").Succeeded, "table inet fwmark is still there");
        foreach (var family in ExpectedRouting.Families)
        {
            Assert.Empty(ExpectedRouting.OurRules(bed.Node, family));
        }

        Assert.Empty(bed.Node.Run("ip", "route", "show", "table", $"{RoutedBed.Table}", "proto", "243").Stdout.Trim());
        Assert.Contains("4000:", bed.Node.Run("ip", "rule", "show").Stdout);
        Assert.Contains("blackhole 203.0.113.0/24", bed.Node.Run("ip", "route", "show", "table", $"{RoutedBed.Table}").Stdout);
    }

    private static int OwnChainLength(Root root, string confDir)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(root.Local($"{confDir}/00-fwmark.conflist")))!["plugins"]!.AsArray().Count;
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            return -1;
        }
    }

    private static void Wait(Func<bool> done, TimeSpan budget, Func<string> explain)
    {
        var watch = Stopwatch.StartNew();
        while (!done())
        {
            Assert.True(watch.Elapsed < budget, $"not within {budget.TotalSeconds} s\n{explain()}");
            Thread.Sleep(5);
        }
    }

    private static CommandResult Fwmark(params string[] args) =>
        ProcessRunner.Run(new CommandSpec(FwmarkBinary.FromEnvironment(), args) { DropInheritedPrefixes = ["CNI_"] });

    private sealed class Root : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("fwmark-e2e-root-").FullName;

        public string Local(string hostPath) => System.IO.Path.Join(Path, hostPath);

        public string Write(string hostPath, string text)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Local(hostPath))!);
            File.WriteAllText(Local(hostPath), text);
            return hostPath;
        }

        public SortedDictionary<string, string> Snapshot() => new(
            Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories)
                .ToDictionary(f => "/" + System.IO.Path.GetRelativePath(Path, f), f => Convert.ToBase64String(File.ReadAllBytes(f))),
            StringComparer.Ordinal);

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
