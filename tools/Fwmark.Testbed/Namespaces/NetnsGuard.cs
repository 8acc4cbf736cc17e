namespace Fwmark.Testbed.Namespaces;

/// <summary>
/// The one check that keeps test commands out of the machine's own network namespace: a bad ruleset or
/// route there cuts the machine off. Every command a <see cref="Netns"/> runs passes through here first.
/// </summary>
public static class NetnsGuard
{
    // /proc/1/ns/net is the initial netns, but a sandboxed PID 1 may refuse to be inspected (EACCES);
    // kernel threads (kthreadd is PID 2) always live in init_net, so theirs is the same namespace
    // (checked to really be kthreadd, in case PID 2 is an ordinary process of a container).
    // Our own netns is protected too: the runner lives in the host's namespace.
    private static readonly (string Path, string? Comm)[] InitialPaths = [("/proc/1/ns/net", null), ("/proc/2/ns/net", "kthreadd")];
    private const string OwnPath = "/proc/self/ns/net";

    private static readonly Lazy<IReadOnlyList<NetnsId>> Initial = new(ReadInitial);

    private static readonly Lazy<IReadOnlyList<NetnsId>> Protected = new(() => [.. Initial.Value, NetnsId.Of(OwnPath)]);

    /// <summary>Throws unless <paramref name="netnsPath"/> names a namespace other than the initial one and ours.</summary>
    public static void EnsureNotInitial(string netnsPath)
    {
        var id = NetnsId.Of(netnsPath);
        if (Protected.Value.Contains(id))
        {
            throw new UnsafeNetnsException(
                $"refusing to run in netns {netnsPath}: it is the initial or this runner's own network namespace {id}");
        }
    }

    /// <summary>
    /// Throws when this process itself runs in the initial network namespace: for tools that program the
    /// namespace they run in (the benchmark, started by bench/run.sh inside a namespace of its own).
    /// </summary>
    public static void EnsureSelfNotInitial()
    {
        var own = NetnsId.Of(OwnPath);
        if (Initial.Value.Contains(own))
        {
            throw new UnsafeNetnsException($"refusing to run in the initial network namespace {own}; use bench/run.sh or 'ip netns exec'");
        }
    }

    /// <summary>
    /// Throws unless <paramref name="netns"/> holds nothing but its loopback: whatever the identities
    /// say, a namespace this code has just created is empty, and one that is not was not made by us.
    /// </summary>
    public static void EnsureFresh(Netns netns)
    {
        var links = netns.Run("ip", "-o", "link", "show").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (links.Length != 1 || !links[0].Contains(" lo:", StringComparison.Ordinal))
        {
            throw new UnsafeNetnsException($"refusing to use netns {netns.Path}: it is not a fresh namespace ({links.Length} links)");
        }
    }

    public static bool IsInitial(string netnsPath) => Protected.Value.Contains(NetnsId.Of(netnsPath));

    private static List<NetnsId> ReadInitial()
    {
        var ids = new List<NetnsId>();
        foreach (var (path, comm) in InitialPaths)
        {
            if ((comm is null || HasComm(path, comm)) && NetnsId.TryOf(path, out var id, out _))
            {
                ids.Add(id);
            }
        }

        // Fail closed: without the initial namespace's identity nothing can be proven safe.
        if (ids.Count == 0)
        {
            throw new UnsafeNetnsException("refusing to run: cannot read the identity of the initial network namespace");
        }

        return ids;
    }

    private static bool HasComm(string nsPath, string comm)
    {
        var commPath = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(nsPath))!, "comm");
        try
        {
            return File.ReadAllText(commPath).Trim() == comm;
        }
        catch (IOException)
        {
            return false;
        }
    }
}

/// <summary>Thrown when a command would have touched the host's network namespace.</summary>
public sealed class UnsafeNetnsException(string message) : Exception(message);
