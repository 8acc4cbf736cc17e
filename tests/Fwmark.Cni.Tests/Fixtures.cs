using System.Text.Json.Nodes;

namespace Fwmark.Cni.Tests;

/// <summary>
/// Results shaped like what bridge handed the next plugin under podman (0.4.0, ips[].version, dns
/// filled in) and under containerd (1.x, no ips[].version, dns empty), with our own values and the
/// 1.1.0-only fields added so every conversion rule has something to act on.
/// </summary>
internal static class Fixtures
{
    public const string PodmanPrevResult040 = """
        {
          "cniVersion": "0.4.0",
          "interfaces": [
            { "name": "cni-podman7", "mac": "0a:58:0a:58:07:01" },
            { "name": "veth4c1d2e3f", "mac": "0a:58:0a:58:07:02" },
            { "name": "eth0", "mac": "0a:58:0a:58:07:1e", "sandbox": "/run/netns/netns-fixture-0001" }
          ],
          "ips": [
            { "version": "4", "interface": 2, "address": "10.88.7.30/24", "gateway": "10.88.7.1" },
            { "version": "6", "interface": 2, "address": "2001:db8:7::1e/64", "gateway": "2001:db8:7::1" }
          ],
          "routes": [ { "dst": "0.0.0.0/0" }, { "dst": "::/0" } ],
          "dns": { "nameservers": [ "10.88.7.1" ], "search": [ "dns.podman" ] }
        }
        """;

    /// <summary>Alphabetical key order (as a map-based encoder writes it) and an unknown top-level key.</summary>
    public const string ContainerdPrevResult110 = """
        {
          "cniVersion": "1.1.0",
          "dns": {},
          "interfaces": [
            { "mac": "9a:10:00:00:00:01", "mtu": 1450, "name": "cni0" },
            { "mac": "9a:10:00:00:00:02", "mtu": 1450, "name": "vethb00c4f1e" },
            { "mac": "9a:10:00:00:00:03", "mtu": 1450, "name": "eth0", "pciID": "0000:00:05.0",
              "sandbox": "/var/run/netns/cni-fixture-1111", "socketPath": "/run/vhost/eth0.sock" }
          ],
          "ips": [
            { "address": "10.244.1.17/24", "gateway": "10.244.1.1", "interface": 2 },
            { "address": "2001:db8:244:1::11/64", "gateway": "2001:db8:244:1::1", "interface": 2 }
          ],
          "routes": [
            { "advmss": 1360, "dst": "0.0.0.0/0", "gw": "10.244.1.1", "mtu": 1400, "priority": 100, "scope": 0, "table": 254 },
            { "dst": "2001:db8::/32" }
          ],
          "x-fixture": { "kept": true }
        }
        """;

    public static JsonNode Node(string json) => JsonNode.Parse(json)!;
}
