using Fwmark.Core.Install;

namespace Fwmark.Core.Tests.Install;

public sealed class LayoutDetectorTests
{
    [Fact]
    public void K3s_is_detected_by_its_data_dir_and_gets_its_own_conflist_in_the_agent_conf_dir()
    {
        using var root = new TempRoot();
        root.MakeDir("/var/lib/rancher/k3s/data/cni");
        var layout = LayoutDetector.Detect(root.Root, new LayoutOptions());
        Assert.Equal(LayoutKind.K3s, layout.Kind);
        Assert.Equal("/var/lib/rancher/k3s/agent/etc/cni/net.d", layout.ConfDir);
        Assert.Equal("/var/lib/rancher/k3s/data/cni", layout.BinDir);
        Assert.Equal(ConflistMode.OwnConflist, layout.Mode);
    }

    [Fact]
    public void K3s_takes_the_bin_dir_from_its_generated_containerd_config()
    {
        using var root = new TempRoot();
        root.Write(LayoutDetector.K3sContainerdConfig, """
            [plugins."io.containerd.grpc.v1.cri".cni]
              bin_dir = "/var/lib/rancher/k3s/data/0123abcd/bin"
              conf_dir = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
            """);
        var layout = LayoutDetector.Detect(root.Root, new LayoutOptions());
        Assert.Equal("/var/lib/rancher/k3s/data/0123abcd/bin", layout.BinDir);
    }

    [Fact]
    public void K3s_with_flannel_cni_conf_in_its_config_yaml_edits_that_file_and_its_copy()
    {
        using var root = new TempRoot();
        root.Write(LayoutDetector.K3sConfig, "write-kubeconfig-mode: 644\nflannel-cni-conf: \"/etc/rancher/k3s/flannel.conflist\"\n");
        var layout = LayoutDetector.Detect(root.Root, new LayoutOptions());
        Assert.Equal(ConflistMode.EditPrimary, layout.Mode);
        Assert.Equal(["/etc/rancher/k3s/flannel.conflist", "/var/lib/rancher/k3s/agent/etc/cni/net.d/10-flannel.conflist"], layout.Targets!);
    }

    [Theory]
    [InlineData("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".cni]\nbin_dir = \"/usr/lib/cni\"\nconf_dir = \"/etc/k8s/cni\"\n", "/usr/lib/cni", "/etc/k8s/cni")]
    [InlineData("version = 3\n[plugins.\"io.containerd.cri.v1.runtime\".cni]\nbin_dirs = [\"/usr/libexec/cni\", \"/opt/cni/bin\"]\nconf_dir = \"/etc/cni/net.d\"\n", "/usr/libexec/cni", "/etc/cni/net.d")]
    [InlineData("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"]\nsandbox_image = \"pause\"\n", "/opt/cni/bin", "/etc/cni/net.d")]
    public void Containerd_reads_the_cri_cni_dirs_of_its_config(string toml, string binDir, string confDir)
    {
        using var root = new TempRoot();
        root.Write(LayoutDetector.ContainerdConfig, toml);
        var layout = LayoutDetector.Detect(root.Root, new LayoutOptions());
        Assert.Equal((LayoutKind.Containerd, binDir, confDir, ConflistMode.EditPrimary), (layout.Kind, layout.BinDir, layout.ConfDir, layout.Mode));
    }

    [Fact]
    public void Podman_installs_into_the_first_existing_cni_plugin_dir_and_later_files_win()
    {
        using var root = new TempRoot();
        root.Write("/usr/share/containers/containers.conf", "[network]\ncni_plugin_dirs = [\"/nowhere\"]\n");
        root.Write("/etc/containers/containers.conf", "[network]\nnetwork_backend = \"cni\"\ncni_plugin_dirs = [\"/usr/local/libexec/cni\", \"/usr/lib/cni\"]\n");
        root.MakeDir("/usr/lib/cni");
        var layout = LayoutDetector.Detect(root.Root, new LayoutOptions { Network = "mustredirect" });
        Assert.Equal((LayoutKind.Podman, "/usr/lib/cni", "/etc/cni/net.d", "mustredirect"), (layout.Kind, layout.BinDir, layout.ConfDir, layout.Network));
    }

    [Fact]
    public void Podman_with_netavark_is_refused_with_the_reason()
    {
        using var root = new TempRoot();
        root.Write("/etc/containers/containers.conf", "[network]\nnetwork_backend = \"netavark\"\n");
        var e = Assert.Throws<InstallException>(() => LayoutDetector.Detect(root.Root, new LayoutOptions()));
        Assert.Contains("network_backend = \"netavark\"", e.Message);
    }

    [Fact]
    public void Two_runtimes_under_one_root_need_an_explicit_layout()
    {
        using var root = new TempRoot();
        root.MakeDir("/var/lib/rancher/k3s");
        root.Write(LayoutDetector.ContainerdConfig, "version = 2\n");
        var e = Assert.Throws<InstallException>(() => LayoutDetector.Detect(root.Root, new LayoutOptions()));
        Assert.Contains("say --layout", e.Message);
        Assert.Equal(LayoutKind.Containerd, LayoutDetector.Detect(root.Root, new LayoutOptions { Kind = LayoutKind.Containerd }).Kind);
    }

    [Fact]
    public void An_empty_root_says_what_it_looked_for()
    {
        using var root = new TempRoot();
        var e = Assert.Throws<InstallException>(() => LayoutDetector.Detect(root.Root, new LayoutOptions()));
        Assert.Contains("/etc/containerd/config.toml", e.Message);
    }
}
