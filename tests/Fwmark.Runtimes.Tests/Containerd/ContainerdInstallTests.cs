using System.Text.Json.Nodes;
using Fwmark.Runtimes.Tests.Infrastructure;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.Runtimes.Tests.Containerd;

/// <summary>
/// The operator's path on a containerd node: the node runs bridge/host-local/portmap without fwmark, then
/// <c>fwmark install</c> (the published binary) puts the plugin into containerd's own bin and conf dirs, and the next
/// pod containerd creates is marked, without a containerd restart (its CRI plugin reloads the conf dir on change).
/// Its own node: the class fixture's node already has fwmark chained.
/// </summary>
public sealed class ContainerdInstallTests
{
    [Fact]
    public void Containerd_pod_created_after_fwmark_install_is_marked()
    {
        using var node = new ContainerdNode(chainFwmark: false);
        var conflistPath = Path.Combine(node.ConfDir, "10-bridge.conflist");
        var original = File.ReadAllBytes(conflistPath);
        var installed = Path.Combine(node.BinDir, "fwmark");
        Assert.False(File.Exists(installed));

        // --root is the test's work dir, so the record (ROOT/var/lib/fwmark) and every path stay in it; the
        // conf and bin dirs are given as the host (the root) sees them, the dirs containerd's config.toml names.
        var root = node.Bed.WorkDir;
        var keys = ContainerdConfig.FwmarkKeys(node.Bed, ContainerdNode.Table);
        keys.Remove("type");
        keys.Remove("capabilities");
        var configFile = Path.Combine(root, "fwmark-keys.json");
        File.WriteAllText(configFile, keys.ToJsonString());
        string[] where = ["--root", root, "--conf-dir", "/" + Path.GetRelativePath(root, node.ConfDir), "--bin-dir", "/" + Path.GetRelativePath(root, node.BinDir)];

        var install = FwmarkCli.Run(node.Bed.Node, node.FwmarkBinaryPath, ["install", "--layout", "containerd", .. where, "--config", configFile, "--binary", node.FwmarkBinaryPath]);
        Assert.True(install.Succeeded, install.Describe());
        Console.WriteLine(install.Stdout);

        Assert.Equal(File.ReadAllBytes(node.FwmarkBinaryPath), File.ReadAllBytes(installed));
        var effective = Directory.GetFiles(node.ConfDir).Where(f => f.EndsWith(".conflist", StringComparison.Ordinal) || f.EndsWith(".conf", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).First();
        var chain = JsonNode.Parse(File.ReadAllText(effective))!["plugins"]!.AsArray().Select(p => (string?)p!["type"]).ToList();
        Assert.Equal(["bridge", "portmap", "fwmark"], chain);

        // containerd 1.6 reloads the conf dir from an fsnotify event on a goroutine: give it a moment, as kubelet's
        // next pod would come later than the install anyway.
        Thread.Sleep(TimeSpan.FromSeconds(1));

        var annotated = node.RunPod("installed-vpn", markAnnotation: "vpn");
        var plain = node.RunPod("installed-plain");
        try
        {
            foreach (var ip in annotated.Addresses)
            {
                node.Bed.Main.Watch(ip);
            }

            foreach (var family in Egress.Families)
            {
                Egress.AssertPath(node.Bed, annotated.ToString(), annotated.Netns, family, EgressPath.Vpn, "after fwmark install");
                Egress.AssertPath(node.Bed, plain.ToString(), plain.Netns, family, EgressPath.Main, "after fwmark install");
            }

            Assert.All(annotated.Addresses, ip => Assert.Equal(0, node.Bed.Main.PacketsFrom(ip)));
        }
        finally
        {
            node.Delete(annotated);
            node.Delete(plain);
        }

        var uninstall = FwmarkCli.Run(node.Bed.Node, node.FwmarkBinaryPath, "uninstall", "--root", root);
        Assert.True(uninstall.Succeeded, uninstall.Describe() + "\n" + IpRoutingOracle.Describe(node.Bed.Node, ContainerdNode.Table));
        Assert.Equal(original, File.ReadAllBytes(conflistPath));
        Assert.False(File.Exists(installed));
    }
}
