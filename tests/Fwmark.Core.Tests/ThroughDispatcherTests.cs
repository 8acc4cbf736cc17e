using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Tests.Fakes;
using static Fwmark.Core.Tests.Fakes.RecordingDataplane;

namespace Fwmark.Core.Tests;

/// <summary>
/// The plugin behind the real protocol layer, fed what containerd sent a chained plugin
/// (shared/samples/containerd/01-RunPodSandbox-ADD.json, with fwmark's keys in the plugin object).
/// </summary>
public class ThroughDispatcherTests
{
    private const string ContainerdStdin = """
        {
          "capabilities": {"io.kubernetes.cri.pod-annotations": true, "portMappings": true},
          "cniVersion": "1.0.0",
          "name": "mustredirect",
          "type": "fwmark",
          "marks": {"vpn": {"mark": 16, "mask": 16}},
          "prevResult": {
            "cniVersion": "1.0.0",
            "dns": {},
            "interfaces": [
              {"mac": "de:f7:0b:f3:b4:2c", "name": "cni0"},
              {"mac": "72:97:03:fb:1a:48", "name": "vethe35a9bbf"},
              {"mac": "ae:e8:12:84:94:37", "name": "eth0", "sandbox": "/var/run/netns/cni-2c3696b1-d651-0a60-a9d2-16c1eb4f7371"}
            ],
            "ips": [{"address": "10.97.0.3/24", "gateway": "10.97.0.1", "interface": 2}],
            "routes": [{"dst": "0.0.0.0/0"}]
          },
          "runtimeConfig": {"io.kubernetes.cri.pod-annotations": {"cni.fwmark.net/name": "vpn", "other": "x"}}
        }
        """;

    private readonly RecordingDataplane _dataplane = new();
    private readonly StringWriter _stdout = new();
    private readonly StringWriter _stderr = new();

    private int Run(string command, string stdin)
    {
        var env = new Dictionary<string, string?>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = Requests.Container,
            ["CNI_NETNS"] = command == "DEL" ? "" : "/var/run/netns/cni-2c3696b1-d651-0a60-a9d2-16c1eb4f7371",
            ["CNI_IFNAME"] = "eth0",
            ["CNI_PATH"] = "/opt/cni/bin",
            ["CNI_ARGS"] = "K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=x;K8S_POD_UID=uid-123;IgnoreUnknown=1;K8S_POD_NAMESPACE=default",
        };
        using var input = new MemoryStream(Encoding.UTF8.GetBytes(stdin));
        return CniDispatcher.Run(new FwmarkPlugin(_dataplane, _stderr, new RecordingRouting(_dataplane.Calls)), env, input, _stdout, _stderr);
    }

    [Fact]
    public void Containerd_add_marks_the_pod_address_and_passes_prevResult_on()
    {
        var exit = Run("ADD", ContainerdStdin);

        Assert.Equal(0, exit);
        var installed = Assert.IsType<Installed>(Assert.Single(_dataplane.Calls));
        Assert.Equal(new AttachmentOwner("mustredirect", Requests.Container, "eth0"), installed.Owner);
        Assert.Equal([IPAddress.Parse("10.97.0.3")], installed.Addresses);
        Assert.Equal(new MarkSpec("vpn", 16, 16), installed.Mark);
        var printed = JsonNode.Parse(_stdout.ToString())!;
        Assert.Equal("10.97.0.3/24", (string?)printed["ips"]![0]!["address"]);
    }

    [Fact]
    public void Add_with_a_bad_mark_prints_config_error_json_and_touches_nothing()
    {
        var stdin = ContainerdStdin.Replace("\"mask\": 16", "\"mask\": 0", StringComparison.Ordinal);

        var exit = Run("ADD", stdin);

        Assert.Equal(1, exit);
        Assert.Empty(_dataplane.Calls);
        var error = JsonNode.Parse(_stdout.ToString())!;
        Assert.Equal(7, (int?)error["code"]);
        Assert.Equal("invalid fwmark config: marks.vpn.mask: 0 is not allowed (mask must have at least one bit set)", (string?)error["msg"]);
    }

    [Fact]
    public void Del_with_a_broken_config_and_no_prevResult_still_removes()
    {
        const string stdin = """{"cniVersion": "1.0.0", "name": "mustredirect", "type": "fwmark", "marks": "garbage"}""";

        var exit = Run("DEL", stdin);

        Assert.Equal(0, exit);
        Assert.Equal("", _stdout.ToString());
        var removed = Assert.IsType<Removed>(Assert.Single(_dataplane.Calls));
        Assert.Equal(new AttachmentOwner("mustredirect", Requests.Container, "eth0"), removed.Owner);
        Assert.Null(removed.Addresses);
    }
}
