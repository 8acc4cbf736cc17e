using Fwmark.Core.Install;
using k8s;
using k8s.Models;

namespace Fwmark.Deploy.Tests;

/// <summary>
/// Every manifest under deploy/kubernetes loads with the KubernetesClient models in strict mode (an unknown or
/// misspelt field fails), and its DaemonSet gives the installer and the agent what they need: each host path the
/// layout touches is mounted at /host + the same path from a hostPath volume of that path, and the --config file
/// comes from a ConfigMap in the same file whose content the installer accepts.
/// </summary>
public sealed class ManifestTests
{
    public static TheoryData<string, string> Manifests => new()
    {
        { "fwmark-k3s.yaml", "k3s" },
        { "fwmark-containerd.yaml", "containerd" },
    };

    [Fact]
    public void Every_manifest_in_deploy_kubernetes_is_covered()
    {
        var files = Directory.GetFiles(Path.Join(AppContext.BaseDirectory, "deploy", "kubernetes"), "*.yaml").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(Manifests.Select(m => (string)m.Data.Item1).Order(), files);
    }

    [Fact]
    public void Strict_loading_rejects_an_unknown_field()
    {
        var text = Read("fwmark-k3s.yaml").Replace("hostNetwork: true", "hostNetwork: true\n      hostNetwrok: true", StringComparison.Ordinal);
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(text, null, strict: true));
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void DaemonSet_mounts_what_install_and_agent_use(string file, string layoutName)
    {
        var objects = KubernetesYaml.LoadAllFromString(Read(file), null, strict: true);
        var daemonSet = Assert.Single(objects.OfType<V1DaemonSet>());
        var configMap = Assert.Single(objects.OfType<V1ConfigMap>());
        var spec = daemonSet.Spec.Template.Spec;
        Assert.True(spec.HostNetwork, "the agent programs the node's network namespace");
        Assert.Equal(daemonSet.Spec.Selector.MatchLabels, daemonSet.Spec.Template.Metadata.Labels);

        var install = Assert.Single(spec.InitContainers);
        var agent = Assert.Single(spec.Containers);
        Assert.Equal("install", install.Args[0]);
        Assert.Equal("agent", agent.Args[0]);

        var layout = LayoutDetector.Detect(new HostRoot("/nonexistent-" + Guid.NewGuid()), new LayoutOptions { Kind = CniLayout.ParseKind(layoutName) });
        // The installer writes the conf dir, the bin dir and the record, and reads the runtime's config.
        var installPaths = new List<string> { layout.ConfDir, layout.BinDir, "/var/lib/fwmark" };
        installPaths.AddRange(layout.Sources);
        var agentPaths = new List<string> { layout.ConfDir, "/var/lib/fwmark" };
        agentPaths.AddRange(layout.Sources);
        foreach (var (container, paths) in new[] { (install, installPaths), (agent, agentPaths) })
        {
            Assert.Equal(layoutName, Option(container, "--layout"));
            var root = Option(container, "--root");
            foreach (var hostPath in paths)
            {
                AssertMountedAt(spec, container, hostPath, root);
            }

            var config = Option(container, "--config");
            var mount = container.VolumeMounts.Single(m => config.StartsWith(m.MountPath + "/", StringComparison.Ordinal));
            var volume = spec.Volumes.Single(v => v.Name == mount.Name);
            Assert.Equal(configMap.Metadata.Name, volume.ConfigMap?.Name);
            var key = config[(mount.MountPath.Length + 1)..];
            Assert.True(configMap.Data.TryGetValue(key, out var json), $"ConfigMap {configMap.Metadata.Name} has no key {key}");
            FwmarkPluginObject.FromConfigText(json, $"{file}: ConfigMap {configMap.Metadata.Name}/{key}");
        }
    }

    private static void AssertMountedAt(V1PodSpec spec, V1Container container, string hostPath, string root)
    {
        // The mount whose hostPath volume covers hostPath (the path itself or a parent dir) ...
        var covering = container.VolumeMounts
            .Select(m => (Mount: m, Volume: spec.Volumes.Single(v => v.Name == m.Name)))
            .Where(x => x.Volume.HostPath is { } h && (hostPath == h.Path || hostPath.StartsWith(h.Path.TrimEnd('/') + "/", StringComparison.Ordinal)))
            .ToList();
        Assert.True(covering.Count > 0, $"{container.Name}: no hostPath volume holds {hostPath}");
        // ... must appear under --root at the same path.
        foreach (var (mount, volume) in covering)
        {
            Assert.Equal(root.TrimEnd('/') + volume.HostPath.Path, mount.MountPath);
        }
    }

    private static string Option(V1Container container, string flag)
    {
        var index = container.Args.IndexOf(flag);
        Assert.True(index >= 0 && index + 1 < container.Args.Count, $"{container.Name}: no {flag} in [{string.Join(' ', container.Args)}]");
        return container.Args[index + 1];
    }

    private static string Read(string file) => File.ReadAllText(Path.Join(AppContext.BaseDirectory, "deploy", "kubernetes", file));
}
