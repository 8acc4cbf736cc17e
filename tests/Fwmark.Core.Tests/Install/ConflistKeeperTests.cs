using System.Diagnostics;
using System.Text.Json.Nodes;
using Fwmark.Core.Agent;
using Fwmark.Core.Install;

namespace Fwmark.Core.Tests.Install;

/// <summary>
/// The primary rewrites its conflist the way k3s does at start (in place: truncate + write) or the way many
/// daemons do (temp file + rename); within 2 s the conflist the runtime loads chains fwmark with the primary's
/// new chain again. Reaction times go to the test output.
/// </summary>
public sealed class ConflistKeeperTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);
    private static readonly JsonObject Plugin = FwmarkPluginObject.FromConfigText(Samples.ConfigKeys, "test");

    [Theory]
    [InlineData("k3s", "in place")]
    [InlineData("k3s", "rename")]
    [InlineData("containerd", "in place")]
    [InlineData("containerd", "rename")]
    public async Task Keeper_re_derives_within_2s_of_each_rewrite_of_the_primary(string kind, string how)
    {
        using var root = new TempRoot();
        var (options, _) = InstallRoundTripTests.Prepare(root, kind);
        var installer = new Installer(root.Root);
        var layout = LayoutDetector.Detect(root.Root, options);
        installer.Apply(installer.PlanInstall(layout, Plugin, null));
        var primary = layout.Mode == ConflistMode.OwnConflist ? installer.OwnPrimary(layout) : ConflistFiles.Effective(root.Root, layout.ConfDir)!;

        using var log = new StringWriter();
        var keeper = new ConflistKeeper(installer, layout, Plugin, log) { Resync = TimeSpan.FromMinutes(5) };
        using var stop = new CancellationTokenSource();
        var host = new AgentHost([keeper], log).RunAsync(stop.Token);
        await WaitForWatching(log);

        var times = new List<double>();
        string[] versions = [Samples.K3sFlannelWithBandwidth, Samples.K3sFlannel];
        for (var round = 0; round < 6; round++)
        {
            var next = versions[round % 2];
            var watch = Stopwatch.StartNew();
            Rewrite(root.Root.Resolve(primary), next, how);
            var expected = JsonNode.Parse(next)!["plugins"]!.AsArray().Select(p => p!["type"]!.GetValue<string>()).Append("fwmark").ToList();
            while (EffectiveChain(root, layout) is var chain && !chain.SequenceEqual(expected))
            {
                Assert.True(watch.Elapsed < Budget, $"round {round}: after {watch.Elapsed.TotalMilliseconds:F0} ms the runtime would load [{string.Join(", ", chain)}], want [{string.Join(", ", expected)}]\n{log}");
                await Task.Delay(5, TestContext.Current.CancellationToken);
            }

            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await host);
        Assert.True(keeper.Rederivations >= times.Count, $"keeper counted {keeper.Rederivations} re-derivations for {times.Count} rewrites");
        times.Sort();
        TestContext.Current.TestOutputHelper?.WriteLine($"{kind} {how}: reaction ms min {times[0]:F0} median {times[times.Count / 2]:F0} max {times[^1]:F0} ({string.Join(", ", times.Select(t => t.ToString("F0")))})");

        // Uninstall afterwards still restores the primary's (latest) bytes.
        installer.Apply(installer.PlanUninstall());
        Assert.Equal(versions[1], File.ReadAllText(root.Root.Resolve(primary)));
    }

    [Fact]
    public async Task Keeper_puts_back_its_own_conflist_when_someone_deletes_it()
    {
        using var root = new TempRoot();
        var (options, _) = InstallRoundTripTests.Prepare(root, "k3s");
        var installer = new Installer(root.Root);
        var layout = LayoutDetector.Detect(root.Root, options);
        installer.Apply(installer.PlanInstall(layout, Plugin, null));
        using var log = new StringWriter();
        var keeper = new ConflistKeeper(installer, layout, Plugin, log);
        using var stop = new CancellationTokenSource();
        var host = new AgentHost([keeper], log).RunAsync(stop.Token);
        await WaitForWatching(log);

        var watch = Stopwatch.StartNew();
        File.Delete(root.Root.Resolve(layout.OwnConflistPath));
        while (!File.Exists(root.Root.Resolve(layout.OwnConflistPath)))
        {
            Assert.True(watch.Elapsed < Budget, $"00-fwmark.conflist not back after {watch.Elapsed}\n{log}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await host);
        Assert.Contains("re-derived /var/lib/rancher/k3s/agent/etc/cni/net.d/00-fwmark.conflist", log.ToString());
    }

    /// <summary>k3s writes its file in place (os.WriteFile: truncate, then write); other daemons write a temp file and rename it.</summary>
    private static void Rewrite(string path, string text, string how)
    {
        if (how == "in place")
        {
            using var stream = new FileStream(path, FileMode.Truncate, FileAccess.Write);
            stream.Write(Samples.Bytes(text));
            return;
        }

        var temp = Path.Join(Path.GetDirectoryName(path), ".primary.tmp");
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    private static List<string> EffectiveChain(TempRoot root, CniLayout layout)
    {
        try
        {
            var file = ConflistFiles.Effective(root.Root, layout.ConfDir)!;
            return JsonNode.Parse(root.Read(file))!["plugins"]!.AsArray().Select(p => p!["type"]!.GetValue<string>()).ToList();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException)
        {
            return [];
        }
    }

    private static async Task WaitForWatching(StringWriter log)
    {
        var watch = Stopwatch.StartNew();
        while (!log.ToString().Contains("watching", StringComparison.Ordinal))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"keeper did not start\n{log}");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }
}
