using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Fwmark.Bench;

/// <summary>
/// Asks the kernel, through the independent <c>nft</c> CLI, how many objects (chains, rules, sets, maps
/// and their elements) the plugin's table holds. The bench does not assume the plugin's table layout, so
/// it only compares totals: they must grow with the population and return to the same value after every
/// measured ADD has been DEL'd.
/// </summary>
internal static class NftProbe
{
    /// <summary>Objects in <c>table inet fwmark</c> plus <c>table bridge fwmark</c> (the tables not counted); null when neither exists.</summary>
    public static int? CountObjects() =>
        (Count("inet"), Count("bridge")) switch
        {
            (null, null) => null,
            var (inet, bridge) => (inet ?? 0) + (bridge ?? 0),
        };

    private static int? Count(string family)
    {
        var info = new ProcessStartInfo("nft", ["-j", "list", "table", family, "fwmark"])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)
            ?? throw new InvalidOperationException("failed to start nft: Process.Start returned null");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var error = stderr.GetAwaiter().GetResult();
        if (process.ExitCode != 0)
        {
            // nft says "No such file or directory" for a missing table; anything else is a real failure.
            if (error.Contains("No such file or directory", StringComparison.Ordinal))
                return null;
            throw new InvalidOperationException($"failed to list nft table {family} fwmark: exit {process.ExitCode}: {error.Trim()}");
        }

        var count = 0;
        foreach (var item in JsonNode.Parse(stdout)?["nftables"]?.AsArray() ?? [])
        {
            if (item is not JsonObject entry)
                continue;
            if (entry.ContainsKey("chain") || entry.ContainsKey("rule"))
                count++;
            var set = entry["set"] ?? entry["map"];
            if (set is not null)
                count += 1 + ((set["elem"] as JsonArray)?.Count ?? 0);
        }

        return count;
    }
}
