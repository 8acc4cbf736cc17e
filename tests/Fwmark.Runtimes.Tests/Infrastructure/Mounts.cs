using Fwmark.Testbed.Processes;

namespace Fwmark.Runtimes.Tests.Infrastructure;

/// <summary>
/// What a runtime mounted under its root/state dirs (overlay snapshots, shm, netns pins) must be unmounted
/// before the dirs can go, even when the daemon died without cleaning up.
/// </summary>
internal static class Mounts
{
    /// <summary>Mount points at or under <paramref name="dir"/>, deepest first (from /proc/self/mountinfo).</summary>
    public static IReadOnlyList<string> Under(string dir)
    {
        var prefix = dir.TrimEnd('/') + "/";
        return [.. File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => Unescape(line.Split(' ')[4]))
            .Where(point => point == dir.TrimEnd('/') || point.StartsWith(prefix, StringComparison.Ordinal))
            .Distinct()
            .OrderByDescending(point => point.Length)];
    }

    /// <summary>Lazily unmounts everything under <paramref name="dir"/>, then deletes it.</summary>
    public static void UnmountAndDelete(string dir)
    {
        foreach (var point in Under(dir))
        {
            ProcessRunner.Run(new CommandSpec("umount", "-l", point));
        }

        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // mountinfo escapes space, tab, newline and backslash as octal.
    private static string Unescape(string field) =>
        field.Replace("\\040", " ").Replace("\\011", "\t").Replace("\\012", "\n").Replace("\\134", "\\");
}
