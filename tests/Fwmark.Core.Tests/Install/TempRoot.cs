using System.Text;
using Fwmark.Core.Install;

namespace Fwmark.Core.Tests.Install;

/// <summary>A throwaway host root: the installer's files go under it, never into the machine's own CNI dirs.</summary>
internal sealed class TempRoot : IDisposable
{
    public TempRoot()
    {
        Path = Directory.CreateTempSubdirectory("fwmark-root-").FullName;
        Root = new HostRoot(Path);
    }

    public string Path { get; }

    public HostRoot Root { get; }

    public string Write(string hostPath, string text)
    {
        var local = Root.Resolve(hostPath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(local)!);
        File.WriteAllText(local, text);
        return hostPath;
    }

    public void MakeDir(string hostPath) => Directory.CreateDirectory(Root.Resolve(hostPath));

    public string Read(string hostPath) => File.ReadAllText(Root.Resolve(hostPath));

    /// <summary>Every file under the root with its bytes, for "everything else is byte-identical".</summary>
    public SortedDictionary<string, string> Snapshot() => new(
        Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories)
            .ToDictionary(f => "/" + System.IO.Path.GetRelativePath(Path, f), f => Convert.ToBase64String(File.ReadAllBytes(f))),
        StringComparer.Ordinal);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Conflists as the runtimes write them (formatting included: edits must keep it).</summary>
internal static class Samples
{
    /// <summary>k3s's 10-flannel.conflist, in its own compact key style.</summary>
    public const string K3sFlannel = """
        {
          "name":"cbr0",
          "cniVersion":"1.0.0",
          "plugins":[
            {
              "type":"flannel",
              "delegate":{
                "hairpinMode":true,
                "forceAddress":true,
                "isDefaultGateway":true
              }
            },
            {
              "type":"portmap",
              "capabilities":{
                "portMappings":true
              }
            }
          ]
        }

        """;

    /// <summary>What k3s writes after an upgrade or a flag change: another chain.</summary>
    public const string K3sFlannelWithBandwidth = """
        {
          "name":"cbr0",
          "cniVersion":"1.0.0",
          "plugins":[
            {"type":"flannel","delegate":{"hairpinMode":true,"forceAddress":true,"isDefaultGateway":true}},
            {"type":"portmap","capabilities":{"portMappings":true}},
            {"type":"bandwidth","capabilities":{"bandwidth":true}}
          ]
        }

        """;

    /// <summary>podman network create mustredirect (podman 4, CNI backend).</summary>
    public const string PodmanNetwork = """
        {
           "cniVersion": "0.4.0",
           "name": "mustredirect",
           "plugins": [
              {
                 "type": "bridge",
                 "bridge": "cni-podman1",
                 "isGateway": true,
                 "ipMasq": true,
                 "hairpinMode": true,
                 "ipam": {
                    "type": "host-local",
                    "routes": [{ "dst": "0.0.0.0/0" }],
                    "ranges": [[{ "subnet": "10.89.0.0/24", "gateway": "10.89.0.1" }]]
                 }
              },
              { "type": "portmap", "capabilities": { "portMappings": true } },
              { "type": "firewall", "backend": "" },
              { "type": "tuning" }
           ]
        }

        """;

    public const string ConfigKeys = """{"marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 123, "gateway": "192.168.2.1", "device": "vpn0"}}}}""";

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
