using System.Text.RegularExpressions;
using Fwmark.Linux.Tests.Kernel;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>
/// A network namespace created for one routing test (`ip netns add fwr-&lt;role&gt;-&lt;random&gt;`) and
/// deleted on dispose. Refuses a namespace that is the test process's own or the initial one, so the
/// rules and routes under test can never land in the host's routing.
/// </summary>
internal sealed partial class RouteNetns : IDisposable
{
    public RouteNetns(string role = "node")
    {
        Name = $"fwr-{role}-{Guid.NewGuid():N}"[..(13 + role.Length)];
        TestNetns.Create(Name);
        try
        {
            // Without DAD, link-local addresses are usable at once: a forwarded IPv6 packet would
            // otherwise wait seconds for neighbour discovery, which has no source address until then.
            Sysctl("net.ipv6.conf.all.accept_dad", "0");
            Sysctl("net.ipv6.conf.default.accept_dad", "0");
            Exec("ip", "link", "set", "lo", "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }

    public string Path => $"/var/run/netns/{Name}";

    /// <summary>Runs a command inside the namespace and returns its output; fails the test when it fails.</summary>
    public string Exec(params string[] command) => Shell.Run("ip", ["netns", "exec", Name, .. command]);

    public (int Code, string Output, string Error) TryExec(params string[] command) => Shell.TryRun("ip", ["netns", "exec", Name, .. command]);

    public string Ip(params string[] arguments) => Shell.Run("ip", ["-n", Name, .. arguments]);

    public void Sysctl(string key, string value) => Exec("sysctl", "-q", "-w", $"{key}={value}");

    /// <summary>Lines of `ip [-6] rule` that mention <paramref name="fragment"/>, whitespace-normalised.</summary>
    public List<string> RuleLines(bool ipv6, string fragment = "fwmark") =>
        Lines(Ip([.. ipv6 ? new[] { "-6" } : [], "rule", "show"])).Where(l => l.Contains(fragment, StringComparison.Ordinal)).ToList();

    /// <summary>`ip [-6] route show table T`, one normalised line per route.</summary>
    public List<string> TableLines(bool ipv6, uint table)
    {
        var (code, output, error) = Shell.TryRun("ip", ["-n", Name, .. ipv6 ? new[] { "-6" } : [], "route", "show", "table", table.ToString()]);
        if (code != 0 && error.Contains("FIB table does not exist", StringComparison.Ordinal))
        {
            return []; // IPv4 reports a table that never had a route as an error
        }

        return code == 0 ? Lines(output) : throw new InvalidOperationException($"ip route show table {table} exited {code}: {error}");
    }

    /// <summary>Creates `nft` objects from a script (test scaffolding and observers, never the code under test).</summary>
    public void Nft(string script)
    {
        var file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{Name}-{Guid.NewGuid():N}.nft");
        File.WriteAllText(file, script);
        try
        {
            Exec("nft", "-f", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Packets counted by the named nft counter object.</summary>
    public long Counter(string table, string counter)
    {
        var text = Exec("nft", "list", "counter", "inet", table, counter);
        var match = PacketsPattern().Match(text);
        return match.Success ? long.Parse(match.Groups[1].Value) : throw new InvalidOperationException($"no packet count in: {text}");
    }

    public void Dispose() => TestNetns.Delete(Name);

    public static List<string> Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => SpacePattern().Replace(l, " "))
            .ToList();

    [GeneratedRegex(@"packets (\d+)")]
    private static partial Regex PacketsPattern();

    [GeneratedRegex(@"\s+")]
    private static partial Regex SpacePattern();
}
