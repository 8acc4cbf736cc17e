using System.Text.Json.Nodes;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Topology;

namespace Fwmark.Runtimes.Tests.Podman;

/// <summary>
/// podman with netavark, the default network backend from podman 5 on, which runs no CNI chain: the plugin is
/// never called. Set up the way docs/runtimes.md tells such a user to: the network's subnet marked by an
/// nftables table of their own, and a routing-only config in a private dir for <c>fwmark reconcile</c>, which
/// keeps the mark's policy routing and kill switch. <see cref="Steered"/> has the rule, <see cref="Unsteered"/>
/// not.
/// </summary>
public sealed class NetavarkNode : PodmanNode
{
    public const string Steered = "redirect5";
    public const string Unsteered = "plain5";
    private const int SteeredIndex = 40;

    public NetavarkNode()
        : base("netavark")
    {
        try
        {
            CreateBareNetwork(Steered, SteeredIndex);
            CreateBareNetwork(Unsteered, SteeredIndex + 1);
            Bed.Node.Nft(SubnetMarkRule);
            ReconcileDir = Path.Combine(Dir, "fwmark.d");
            Directory.CreateDirectory(ReconcileDir);
            var marks = Fwmark(defaultMark: false);
            File.WriteAllText(Path.Combine(ReconcileDir, "redirect.conf"),
                new JsonObject { ["cniVersion"] = "1.0.0", ["name"] = Steered, ["type"] = "fwmark", ["marks"] = marks["marks"]!.DeepClone() }.ToJsonString());
        }
        catch
        {
            Bed.Dispose();
            throw;
        }
    }

    /// <summary>The dir <c>fwmark reconcile --conf-dir</c> reads: one .conf with the mark and its route, no runtime reads it.</summary>
    public string ReconcileDir { get; }

    /// <summary>The documented rule, for this network's subnets: the plugin's mark chain written by hand for a whole subnet.</summary>
    private static string SubnetMarkRule => $$"""
        table inet podman_redirect {
          chain prerouting {
            type filter hook prerouting priority mangle; policy accept;
            ct direction reply return
            ip saddr {{Addresses.PodSubnetV4(SteeredIndex)}} meta mark set meta mark & 0xfffff000 | 0x00000888
            ip6 saddr {{Addresses.PodSubnetV6(SteeredIndex)}} meta mark set meta mark & 0xfffff000 | 0x00000888
          }
        }

        """;

    /// <summary>What the VPN up-hook runs.</summary>
    public Fwmark.Testbed.Processes.CommandResult Reconcile() => FwmarkCli.Reconcile(Bed.Node, FwmarkBinaryPath, ReconcileDir);
}
