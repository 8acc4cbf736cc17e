namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// Creates the network namespaces kernel tests run in, and refuses any namespace the host could be
/// behind, so kernel-mutating code under test can never reach the host's ruleset or routing.
/// </summary>
internal static class TestNetns
{
    /// <summary>`ip netns add <paramref name="name"/>`, then the guard; a refused namespace is deleted again.</summary>
    public static void Create(string name)
    {
        Shell.Run("ip", "netns", "add", name);
        try
        {
            Guard(name);
        }
        catch
        {
            Delete(name);
            throw;
        }
    }

    public static void Delete(string name) => Shell.TryRun("ip", "netns", "delete", name);

    private static void Guard(string name)
    {
        var path = $"/var/run/netns/{name}";
        var target = Inode(path);
        if (target == Inode("/proc/self/ns/net"))
        {
            throw new InvalidOperationException($"refusing to use {path}: it is this process's own network namespace");
        }

        // /proc/1 is unreadable in some sandboxes; when it can be read it must differ too.
        var (code, init, _) = Shell.TryRun("stat", "-L", "-c", "%i", "/proc/1/ns/net");
        if (code == 0 && init.Trim() == target)
        {
            throw new InvalidOperationException($"refusing to use {path}: it is the initial network namespace");
        }

        // Whatever the inodes say, a namespace we just created holds nothing but its loopback.
        var links = Shell.Run("ip", "-n", name, "-o", "link", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (links.Length != 1 || !links[0].Contains(" lo:", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"refusing to use {path}: it is not a fresh namespace ({links.Length} links)");
        }
    }

    private static string Inode(string path) => Shell.Run("stat", "-L", "-c", "%i", path).Trim();
}
