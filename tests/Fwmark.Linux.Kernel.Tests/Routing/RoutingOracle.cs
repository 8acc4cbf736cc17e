using System.Net.Sockets;
using Fwmark.Testbed.Routing;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>
/// The views of the test bed's <see cref="IpRoutingOracle"/> these tests compare against: whitespace
/// squeezed ("1000: from all fwmark …"), rules filtered to the ones under test.
/// </summary>
internal static class RoutingOracle
{
    /// <summary>Lines of <c>ip [-6] rule</c> that mention <paramref name="fragment"/>.</summary>
    public static List<string> RuleLines(this Netns netns, bool ipv6, string fragment = "fwmark") =>
        IpRoutingOracle.Rules(netns, Family(ipv6)).Select(IpRoutingOracle.Squeeze)
            .Where(l => l.Contains(fragment, StringComparison.Ordinal)).ToList();

    /// <summary><c>ip [-6] route show table T</c>, one line per route; empty for a table never written.</summary>
    public static List<string> TableLines(this Netns netns, bool ipv6, uint table) =>
        IpRoutingOracle.Routes(netns, Family(ipv6), table).Select(IpRoutingOracle.Squeeze).ToList();

    private static AddressFamily Family(bool ipv6) => ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
}
