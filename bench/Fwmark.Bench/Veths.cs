using System.Diagnostics;

namespace Fwmark.Bench;

/// <summary>
/// The bridge path's real interfaces: per pod a veth pair (both ends in the bench's netns) whose host end is a
/// port of the pod's bridge, made with one <c>ip -batch</c> run (untimed).
/// </summary>
internal static class Veths
{
    public static void Create(IReadOnlyList<FakePod> pods, TextWriter progress)
    {
        var clock = Stopwatch.StartNew();
        var lines = new List<string>();
        foreach (var bridge in pods.Select(p => p.Bridge).Distinct())
        {
            lines.Add($"link add {bridge} type bridge");
            lines.Add($"link set {bridge} up");
        }

        foreach (var pod in pods)
        {
            lines.Add($"link add {pod.HostVeth} type veth peer name {pod.PodInterface}");
            lines.Add($"link set {pod.HostVeth} master {pod.Bridge} up");
        }

        var info = new ProcessStartInfo("ip", ["-force", "-batch", "-"])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("failed to start ip -batch");
        var stderr = process.StandardError.ReadToEndAsync();
        foreach (var line in lines)
            process.StandardInput.WriteLine(line);
        process.StandardInput.Close();
        process.WaitForExit();
        var errors = stderr.GetAwaiter().GetResult().Trim();
        // Bridges of an earlier step already exist ("File exists"): anything else is a failure.
        var real = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("File exists", StringComparison.Ordinal) && !l.StartsWith("Command failed", StringComparison.Ordinal)).ToList();
        if (real.Count > 0)
            throw new InvalidOperationException($"failed to create veths: {string.Join("; ", real.Take(3))}");
        progress.WriteLine($"veths: {pods.Count} pairs created in {clock.Elapsed.TotalSeconds:F1}s");
    }
}
