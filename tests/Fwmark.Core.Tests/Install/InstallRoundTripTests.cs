using System.Text.Json.Nodes;
using Fwmark.Core.Install;

namespace Fwmark.Core.Tests.Install;

/// <summary>
/// install → the conflist the runtime loads chains fwmark → install again changes nothing → uninstall → every
/// byte under the root is as before install, for each layout, in a temp root.
/// </summary>
public sealed class InstallRoundTripTests
{
    private static readonly JsonObject Plugin = FwmarkPluginObject.FromConfigText(Samples.ConfigKeys, "test");
    private static readonly byte[] Binary = [0x7f, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3];

    public static TheoryData<string> Layouts => ["k3s", "k3s-flannel-cni-conf", "containerd", "podman"];

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Install_then_uninstall_restores_every_byte(string kind)
    {
        using var root = new TempRoot();
        var (options, expectedBin) = Prepare(root, kind);
        var before = root.Snapshot();
        var installer = new Installer(root.Root);
        var layout = LayoutDetector.Detect(root.Root, options);

        var plan = installer.PlanInstall(layout, Plugin, Binary);
        Assert.False(plan.IsEmpty);
        Assert.Equal(before, root.Snapshot()); // planning writes nothing
        installer.Apply(plan);

        AssertEffectiveChainHasFwmark(root, layout);
        Assert.Equal(Binary, File.ReadAllBytes(root.Root.Resolve(expectedBin)));
        var after = root.Snapshot();
        var changed = after.Keys.Where(k => !before.TryGetValue(k, out var v) || v != after[k]).ToList();
        foreach (var path in changed)
        {
            Assert.True(path == expectedBin || path == InstallRecord.Path || plan.Changes.Any(c => c.HostPath == path), $"{path} changed but is not in the plan");
        }

        Assert.True(installer.PlanInstall(layout, Plugin, Binary) is { IsEmpty: true, Record: null }, "a second install would change something");

        installer.Apply(installer.PlanUninstall());
        Assert.Equal(before, root.Snapshot());
    }

    [Fact]
    public void Uninstall_after_the_primary_rewrote_its_file_keeps_the_new_bytes_without_fwmark()
    {
        using var root = new TempRoot();
        var (options, _) = Prepare(root, "containerd");
        var installer = new Installer(root.Root);
        var layout = LayoutDetector.Detect(root.Root, options);
        installer.Apply(installer.PlanInstall(layout, Plugin, Binary));

        // The primary's daemon writes its own new version (without fwmark); install (or the keeper) puts fwmark back.
        root.Write("/etc/cni/net.d/10-flannel.conflist", Samples.K3sFlannelWithBandwidth);
        installer.Apply(installer.PlanInstall(layout, Plugin, null));
        AssertEffectiveChainHasFwmark(root, layout);

        installer.Apply(installer.PlanUninstall());
        Assert.Equal(Samples.K3sFlannelWithBandwidth, root.Read("/etc/cni/net.d/10-flannel.conflist"));
    }

    [Theory]
    [InlineData("k3s")]
    [InlineData("containerd")]
    public void Check_reports_the_window_after_a_rewrite_and_is_quiet_once_repaired(string kind)
    {
        using var root = new TempRoot();
        var (options, _) = Prepare(root, kind);
        var installer = new Installer(root.Root);
        var layout = LayoutDetector.Detect(root.Root, options);
        Assert.Contains(InstallStatus.Check(installer, layout, Plugin), p => p.Contains("not installed", StringComparison.Ordinal));
        installer.Apply(installer.PlanInstall(layout, Plugin, null));
        Assert.Empty(InstallStatus.Check(installer, layout, Plugin));

        var primary = layout.Mode == ConflistMode.OwnConflist ? installer.OwnPrimary(layout) : ConflistFiles.Effective(root.Root, layout.ConfDir)!;
        root.Write(primary, Samples.K3sFlannelWithBandwidth);
        var problem = Assert.Single(InstallStatus.Check(installer, layout, Plugin));
        Assert.Contains(kind == "k3s" ? "pods created now get its older chain [flannel, portmap, fwmark]" : "pods created now start unmarked", problem);

        installer.Apply(installer.PlanInstall(layout, Plugin, null));
        Assert.Empty(InstallStatus.Check(installer, layout, Plugin));
    }

    [Fact]
    public void A_bin_dir_that_does_not_exist_is_not_created()
    {
        using var root = new TempRoot();
        root.Write("/etc/cni/net.d/10-flannel.conflist", Samples.K3sFlannel);
        var layout = LayoutDetector.Detect(root.Root, new LayoutOptions { Kind = LayoutKind.Containerd });
        var e = Assert.Throws<InstallException>(() => new Installer(root.Root).PlanInstall(layout, Plugin, Binary));
        Assert.Contains("/opt/cni/bin: no such directory", e.Message);
        Assert.False(Directory.Exists(root.Root.Resolve("/opt/cni/bin")));
    }

    [Fact]
    public void A_primary_that_sorts_before_fwmarks_own_conflist_is_refused()
    {
        using var root = new TempRoot();
        root.Write("/var/lib/rancher/k3s/agent/etc/cni/net.d/00-aaa.conflist", Samples.K3sFlannel);
        var layout = LayoutDetector.Detect(root.Root, new LayoutOptions { Kind = LayoutKind.K3s });
        var e = Assert.Throws<InstallException>(() => new Installer(root.Root).PlanInstall(layout, Plugin, null));
        Assert.Contains("00-aaa.conflist sorts before 00-fwmark.conflist", e.Message);
    }

    [Fact]
    public void Dry_run_diff_shows_the_inserted_element_only()
    {
        using var root = new TempRoot();
        var (options, _) = Prepare(root, "podman");
        var plan = new Installer(root.Root).PlanInstall(LayoutDetector.Detect(root.Root, options), Plugin, null);
        var diff = plan.Diff();
        Assert.Contains("+++ /etc/cni/net.d/mustredirect.conflist", diff);
        var lines = diff.Split('\n');
        Assert.Contains(lines, l => l.StartsWith('+') && l.Contains("\"type\": \"fwmark\"", StringComparison.Ordinal));
        // The primary's lines are all kept; only its last element's line gains the separating comma.
        var removed = lines.Where(l => l.StartsWith('-') && !l.StartsWith("---", StringComparison.Ordinal)).ToList();
        Assert.True(removed.Count <= 1, diff);
        Assert.All(removed, r => Assert.Contains("+" + r[1..] + ",", lines));
    }

    internal static (LayoutOptions Options, string BinaryPath) Prepare(TempRoot root, string kind)
    {
        // Another network's conflist that sorts later: never touched.
        switch (kind)
        {
            case "k3s":
                root.MakeDir("/var/lib/rancher/k3s/data/cni");
                root.Write("/var/lib/rancher/k3s/agent/etc/cni/net.d/10-flannel.conflist", Samples.K3sFlannel);
                root.Write("/var/lib/rancher/k3s/agent/etc/cni/net.d/20-other.conflist", Samples.PodmanNetwork);
                return (new LayoutOptions(), "/var/lib/rancher/k3s/data/cni/fwmark");
            case "k3s-flannel-cni-conf":
                root.MakeDir("/var/lib/rancher/k3s/data/cni");
                root.Write("/etc/rancher/k3s/config.yaml", "flannel-cni-conf: /etc/rancher/k3s/my-flannel.conflist\n");
                root.Write("/etc/rancher/k3s/my-flannel.conflist", Samples.K3sFlannelWithBandwidth);
                root.Write("/var/lib/rancher/k3s/agent/etc/cni/net.d/10-flannel.conflist", Samples.K3sFlannelWithBandwidth);
                return (new LayoutOptions(), "/var/lib/rancher/k3s/data/cni/fwmark");
            case "containerd":
                root.MakeDir("/usr/lib/cni");
                root.Write("/etc/containerd/config.toml", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".cni]\n  bin_dir = \"/usr/lib/cni\"\n  conf_dir = \"/etc/cni/net.d\"\n");
                root.Write("/etc/cni/net.d/10-flannel.conflist", Samples.K3sFlannel);
                root.Write("/etc/cni/net.d/99-loopback.conf", """{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}""");
                return (new LayoutOptions(), "/usr/lib/cni/fwmark");
            default:
                root.Write("/etc/containers/containers.conf", "[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"/usr/local/libexec/cni\", \"/usr/lib/cni\"]\n");
                root.MakeDir("/usr/lib/cni");
                root.Write("/etc/cni/net.d/87-podman-bridge.conflist", Samples.K3sFlannel.Replace("cbr0", "podman", StringComparison.Ordinal));
                root.Write("/etc/cni/net.d/mustredirect.conflist", Samples.PodmanNetwork);
                return (new LayoutOptions { Network = "mustredirect" }, "/usr/lib/cni/fwmark");
        }
    }

    /// <summary>The file the runtime loads (podman: the network's) chains fwmark after the main plugin, with our keys.</summary>
    internal static void AssertEffectiveChainHasFwmark(TempRoot root, CniLayout layout)
    {
        var file = layout.Network is { } network ? $"{layout.ConfDir}/{network}.conflist" : ConflistFiles.Effective(root.Root, layout.ConfDir)!;
        var chain = JsonNode.Parse(root.Read(file))!["plugins"]!.AsArray();
        var index = chain.ToList().FindIndex(p => p!["type"]!.GetValue<string>() == "fwmark");
        Assert.True(index > 0, $"{file} has no fwmark after a main plugin:\n{root.Read(file)}");
        Assert.True(JsonNode.DeepEquals(Plugin, chain[index]), $"{file}: the fwmark element differs from the config");
    }
}
