using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests;

/// <summary>
/// A fresh testbed (own namespaces) with the plugin under test (FWMARK_BIN) in its CNI bin dir and, unless
/// asked otherwise, the seed's VPN policy routing for mark 0x10/0x10 on the node.
/// </summary>
internal sealed class PluginBed : IDisposable
{
    private int _networks;

    private PluginBed(NodeTestbed bed, string binDir)
    {
        Bed = bed;
        BinDir = binDir;
    }

    public NodeTestbed Bed { get; }

    public string BinDir { get; }

    public Netns Node => Bed.Node;

    /// <summary>Throws (failing the test with how to fix it) when FWMARK_BIN is missing or not executable.</summary>
    public static PluginBed Create(bool vpnRouting = true, uint mark = 0x10, uint mask = 0x10)
    {
        var fwmark = FwmarkBinary.FromEnvironment();
        var bed = NodeTestbed.Create();
        try
        {
            if (vpnRouting)
            {
                bed.EnableVpnPolicyRouting(mark, mask);
            }

            return new PluginBed(bed, CniBinDir.Create(bed, fwmark));
        }
        catch
        {
            bed.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A new network (own bridge and, unless <paramref name="sameRangeAs"/> names an earlier network's number, own
    /// subnets) on the node: bridge + host-local, then <paramref name="fwmark"/>.
    /// </summary>
    public PodNetwork Network(JsonObject? fwmark, string? name = null, string cniVersion = "1.0.0", int? sameRangeAs = null)
    {
        var index = _networks++;
        return PodNetwork.Create(Bed, BinDir, name ?? $"net{index}", index, fwmark, cniVersion, sameRangeAs);
    }

    /// <summary>Execs the plugin under test alone in the node namespace with this exact environment and stdin.</summary>
    public CniExecResult Fwmark(CniChain chain, IReadOnlyDictionary<string, string?> env, string stdin) =>
        chain.Exec("fwmark", env, stdin);

    /// <summary>Where a real TCP connection from <paramref name="pod"/> left the node, with evidence for failures.</summary>
    public (EgressPath Path, string Evidence) PathOf(Pod pod, AddressFamily family)
    {
        var reply = Bed.Ask(pod.Netns, family);
        var path = Bed.PathOf(reply.Observed);
        return (path, $"pod {pod.Name} ({string.Join(", ", pod.Addresses)}) {family}: server saw {reply.Observed?.ToString() ?? "nothing"} => {path}\n"
            + $"{reply.Raw.Describe()}\n{Diagnostics()}");
    }

    public void AssertPath(Pod pod, AddressFamily family, EgressPath expected)
    {
        var (path, evidence) = PathOf(pod, family);
        Assert.True(path == expected, $"expected {expected} but got {path}\n{evidence}");
    }

    /// <summary>The node's fwmark table, rules and VPN table: printed with every path assertion failure.</summary>
    public string Diagnostics() =>
        $"--- nft list table inet fwmark:\n{NftOracle.TableText(Node)}"
        + $"--- ip rule:\n{Node.Exec("ip", "rule").Stdout}--- ip -6 rule:\n{Node.Exec("ip", "-6", "rule").Stdout}";

    public static IReadOnlyList<PodSetElement> ElementsOf(Netns node, Pod pod) =>
        [.. pod.Addresses.SelectMany(a => NftOracle.ElementsFor(node, a))];

    /// <summary>The ifname-set elements owned by <paramref name="pod"/> (its host veth as a bridge port or input interface).</summary>
    public static IReadOnlyList<InterfaceElement> InterfaceElementsOf(Netns node, Pod pod) =>
        [.. NftOracle.InterfaceElements(node).Where(e => e.Comment?.Contains(pod.ContainerId[..20], StringComparison.Ordinal) == true)];

    /// <summary>The pod's host veth: the bridge plugin lists the bridge, then the host veth, then the pod's interface.</summary>
    public static string HostVeth(Pod pod) =>
        (pod.AddResult?["interfaces"]?.AsArray() ?? [])
            .Where(i => i?["sandbox"] is null)
            .Select(i => i?["name"]?.GetValue<string>())
            .OfType<string>()
            .Last();

    public void Dispose() => Bed.Dispose();
}
