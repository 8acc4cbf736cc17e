namespace Fwmark.Runtimes.Tests.Infrastructure;

/// <summary>A missing runtime binary fails the suite with what to install (eng/deps.sh does it in CI); never a skip.</summary>
internal static class Prerequisites
{
    public static void Require(string package, params string[] binaries)
    {
        foreach (var binary in binaries)
        {
            var found = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin")
                .Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Any(dir => File.Exists(Path.Combine(dir, binary)));
            if (!found)
            {
                throw new InvalidOperationException($"failed to find {binary} on PATH: install the Debian package {package} (eng/deps.sh)");
            }
        }
    }
}
