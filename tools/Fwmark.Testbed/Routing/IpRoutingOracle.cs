using System.Net.Sockets;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.Testbed.Routing;

/// <summary>
/// The node's policy routing as iproute2 prints it: the independent oracle for what the plugin's rtnetlink
/// code left in the kernel (never the plugin's own decoder).
/// </summary>
public static class IpRoutingOracle
{
    /// <summary>The lines of <c>ip -4|-6 rule show</c>, e.g. "1000:\tfrom all fwmark 0x10/0x10 lookup main suppress_prefixlength 0 proto 243".</summary>
    public static IReadOnlyList<string> Rules(Netns netns, AddressFamily family) =>
        Lines(netns.Run("ip", FamilyFlag(family), "rule", "show").Stdout);

    /// <summary>The lines of <c>ip -4|-6 route show table T</c>; empty when the table does not exist (yet).</summary>
    public static IReadOnlyList<string> Routes(Netns netns, AddressFamily family, uint table)
    {
        var result = netns.Exec("ip", FamilyFlag(family), "route", "show", "table", $"{table}");
        if (!result.Succeeded)
        {
            // iproute2 answers "FIB table does not exist" (and exit 2) for a table nobody has written yet.
            return result.Stderr.Contains("does not exist", StringComparison.Ordinal)
                ? []
                : throw new TestbedException($"failed to list table {table} in {netns}: {result.Describe()}");
        }

        return Lines(result.Stdout);
    }

    /// <summary>Rules, then the routes of <paramref name="table"/>, both families: for failure messages.</summary>
    public static string Describe(Netns netns, uint table)
    {
        var text = new System.Text.StringBuilder();
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var flag = FamilyFlag(family);
            text.Append($"--- ip {flag} rule:\n").AppendJoin('\n', Rules(netns, family)).Append('\n');
            text.Append($"--- ip {flag} route show table {table}:\n").AppendJoin('\n', Routes(netns, family, table)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>A line with every run of whitespace made one space ("1000:\tfrom all" → "1000: from all"), for exact comparisons.</summary>
    public static string Squeeze(string line) => string.Join(' ', line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    public static string FamilyFlag(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "-6" : "-4";

    private static List<string> Lines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
