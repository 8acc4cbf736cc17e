using Fwmark.Core.Install;

namespace Fwmark.Core.Tests.Install;

public sealed class MiniTomlTests
{
    [Fact]
    public void Reads_quoted_table_headers_strings_and_multi_line_arrays_and_skips_comments()
    {
        var values = MiniToml.Parse("""
            version = 2
            # bin_dir = "/commented"
            [plugins."io.containerd.grpc.v1.cri".cni]
              bin_dir = "/usr/lib/cni" # trailing comment
              conf_dir = '/etc/cni/#not-a-comment'
              max_conf_num = 1
            [network]
            cni_plugin_dirs = [
              "/usr/local/libexec/cni", # first
              '/usr/lib/cni',
            ]
            """);

        Assert.Equal("/usr/lib/cni", values["plugins.io.containerd.grpc.v1.cri.cni.bin_dir"].Text);
        Assert.Equal("/etc/cni/#not-a-comment", values["plugins.io.containerd.grpc.v1.cri.cni.conf_dir"].Text);
        Assert.False(values.ContainsKey("bin_dir"));
        Assert.False(values.ContainsKey("plugins.io.containerd.grpc.v1.cri.cni.max_conf_num"));
        Assert.Equal(["/usr/local/libexec/cni", "/usr/lib/cni"], values["network.cni_plugin_dirs"].Items!);
    }
}
