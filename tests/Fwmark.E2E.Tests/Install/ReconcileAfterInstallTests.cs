using System.Text.Json.Nodes;
using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Cni;

namespace Fwmark.E2E.Tests.Install;

/// <summary>
/// A VPN up-hook runs plain <c>fwmark reconcile</c>: after <c>fwmark install</c> it must read the conf dir install
/// recorded (k3s's is not /etc/cni/net.d, where reconcile used to look and find nothing).
/// </summary>
public sealed class ReconcileAfterInstallTests
{
    [Fact]
    public void Reconcile_without_conf_dir_uses_the_conf_dir_install_recorded()
    {
        using var bed = RoutedBed.Create();
        var root = Directory.CreateTempSubdirectory("fwmark-e2e-reconcile-").FullName;
        try
        {
            // A k3s-like root whose conf dir holds the routed network's primary chain (fwmark taken out of it).
            var confDir = "/var/lib/rancher/k3s/agent/etc/cni/net.d";
            Directory.CreateDirectory(Path.Join(root, confDir));
            Directory.CreateDirectory(Path.Join(root, "/var/lib/rancher/k3s/data/cni"));
            var conflist = JsonNode.Parse(File.ReadAllText(Path.Join(bed.ConfDir.Path, $"{RoutedBed.NetworkName}.conflist")))!.AsObject();
            var plugins = conflist["plugins"]!.AsArray();
            var fwmark = plugins.Single(p => (string?)p!["type"] == "fwmark")!;
            plugins.Remove(fwmark);
            File.WriteAllText(Path.Join(root, confDir, "10-flannel.conflist"), conflist.ToJsonString());
            File.WriteAllText(Path.Join(root, "config.json"), fwmark.ToJsonString());

            var install = FwmarkCli.Run(bed.Node, bed.FwmarkBinary, "install", "--root", root, "--layout", "k3s", "--config", Path.Join(root, "config.json"));
            Assert.True(install.Succeeded, install.Describe());
            foreach (var family in ExpectedRouting.Families)
            {
                Assert.Empty(ExpectedRouting.OurRules(bed.Node, family));
            }

            var reconcile = FwmarkCli.Run(bed.Node, bed.FwmarkBinary, "reconcile", "--root", root);
            Assert.True(reconcile.Succeeded, $"{reconcile.Describe()}\n{bed.Diagnostics()}");
            ExpectedRouting.AssertInstalled(bed.Node, RoutedBed.DocumentedDefaultPriority, RoutedBed.Table, bed.Bed.NodeVpnLink, "after reconcile with the recorded conf dir");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
