using System.Net;
using System.Net.Sockets;
using Fwmark.Testbed;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Topology;

namespace Fwmark.Runtimes.Tests.Infrastructure;

/// <summary>
/// The product's promise as the far end sees it: one real TCP connection from the pod's namespace to the echo
/// server, and which gateway's address the server saw. Failure messages carry the node's kernel state.
/// </summary>
internal static class Egress
{
    public static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    public static void AssertPath(NodeTestbed bed, string who, Netns from, AddressFamily family, EgressPath expected, string context = "")
    {
        var reply = bed.Ask(from, family);
        var path = bed.PathOf(reply.Observed);
        Assert.True(path == expected,
            $"{who} {family}{(context.Length > 0 ? $" ({context})" : "")}: expected {expected}, server saw {reply.Observed?.ToString() ?? "nothing"} => {path}\n"
            + $"{reply.Raw.Describe()}\n{Diagnostics(bed.Node)}");
    }

    /// <summary>No connection gets through at all (fail closed), within the client's own timeouts.</summary>
    public static void AssertCutOff(NodeTestbed bed, string who, Netns from, AddressFamily family, string context)
    {
        var server = family == AddressFamily.InterNetworkV6 ? Addresses.ServerV6 : Addresses.ServerV4;
        var reply = EchoClient.Ask(from, server, bed.Server.Port, TimeSpan.FromSeconds(3));
        Assert.False(reply.Connected, $"{who} {family} ({context}): connected, server saw {reply.Observed}\n{Diagnostics(bed.Node)}");
    }

    public static IPAddress Of(IReadOnlyList<IPAddress> addresses, AddressFamily family, string who) =>
        addresses.FirstOrDefault(a => a.AddressFamily == family)
        ?? throw new TestbedException($"{who} has no {family} address (has {string.Join(", ", addresses)})");

    /// <summary>The plugin's table and the node's policy rules, for failure messages.</summary>
    public static string Diagnostics(Netns node) =>
        $"--- nft list table inet fwmark:\n{NftOracle.TableText(node)}"
        + $"--- ip rule:\n{node.Exec("ip", "rule").Stdout}--- ip -6 rule:\n{node.Exec("ip", "-6", "rule").Stdout}";
}
