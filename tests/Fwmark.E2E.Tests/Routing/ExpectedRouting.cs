using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>
/// What docs/routing.md "What the plugin makes" promises for mark 0x10/0x10 with a route through the VPN uplink, read back with
/// iproute2: per family one suppress rule at P, one lookup rule at P+1, and in table T exactly the VPN default
/// route plus (failClosed) the unreachable default with the highest metric. "Exactly one" is the point:
/// duplicates mean the plugin is not idempotent.
/// </summary>
internal static class ExpectedRouting
{
    public const string Selector = "0x10/0x10";

    public static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    /// <summary>`P: from all fwmark 0x10/0x10 lookup main suppress_prefixlength 0 [proto N]`.</summary>
    public static Regex SuppressRule(uint priority) =>
        new($@"^{priority}:\s+from all fwmark {Selector} lookup main suppress_prefixlength 0( |$)");

    /// <summary>`P+1: from all fwmark 0x10/0x10 lookup T [proto N]`.</summary>
    public static Regex LookupRule(uint priority, uint table) =>
        new($@"^{priority + 1}:\s+from all fwmark {Selector} lookup {table}( |$)");

    /// <summary>`default via GW dev DEVICE ...` in table T.</summary>
    public static Regex VpnDefault(AddressFamily family, string device) =>
        new($@"^default via {Regex.Escape(GatewayOf(family).ToString())} dev {Regex.Escape(device)}( |$)");

    /// <summary>`unreachable default ... metric 4294967295` in table T.</summary>
    public static readonly Regex UnreachableDefault = new(@"^unreachable default( .*)? metric 4294967295( |$)");

    public static IPAddress GatewayOf(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? Addresses.VpnGwInnerV6 : Addresses.VpnGwInnerV4;

    /// <summary>Rules mentioning our selector (any priority): none may exist before the plugin ran.</summary>
    public static IReadOnlyList<string> OurRules(Netns node, AddressFamily family) =>
        [.. IpRoutingOracle.Rules(node, family).Where(r => r.Contains($"fwmark {Selector}", StringComparison.Ordinal))];

    /// <summary>Both families: each object exactly once, and table T holds nothing else.</summary>
    public static void AssertInstalled(Netns node, uint priority, uint table, string device, string when)
    {
        foreach (var family in Families)
        {
            var rules = IpRoutingOracle.Rules(node, family);
            var routes = IpRoutingOracle.Routes(node, family, table);
            var evidence = $"{when}, {family}\n{IpRoutingOracle.Describe(node, table)}";
            AssertOnce(rules, SuppressRule(priority), "suppress rule", evidence);
            AssertOnce(rules, LookupRule(priority, table), "lookup rule", evidence);
            Assert.True(OurRules(node, family).Count == 2, $"expected exactly the two rules for fwmark {Selector}\n{evidence}");
            AssertOnce(routes, VpnDefault(family, device), "VPN default route", evidence);
            AssertOnce(routes, UnreachableDefault, "unreachable default route", evidence);
            Assert.True(routes.Count == 2, $"expected exactly two routes in table {table}\n{evidence}");
        }
    }

    /// <summary>Table T of <paramref name="family"/> has the unreachable default but no VPN default (the kill switch is armed).</summary>
    public static void AssertFailClosedOnly(Netns node, AddressFamily family, uint table, string when)
    {
        var routes = IpRoutingOracle.Routes(node, family, table);
        var evidence = $"{when}, {family}\n{IpRoutingOracle.Describe(node, table)}";
        AssertOnce(routes, UnreachableDefault, "unreachable default route", evidence);
        Assert.True(routes.Count == 1, $"expected only the unreachable default in table {table}\n{evidence}");
    }

    private static void AssertOnce(IReadOnlyList<string> lines, Regex pattern, string what, string evidence)
    {
        var count = lines.Count(pattern.IsMatch);
        Assert.True(count == 1, $"expected exactly one {what} /{pattern}/, found {count}\n{evidence}");
    }
}
