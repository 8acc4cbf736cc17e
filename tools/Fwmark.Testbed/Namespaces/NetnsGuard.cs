namespace Fwmark.Testbed.Namespaces;

/// <summary>
/// The one check that keeps test commands out of the machine's own network namespace: a bad ruleset or
/// route there cuts the machine off. Every command a <see cref="Netns"/> runs passes through here first.
/// </summary>
public static class NetnsGuard
{
    // /proc/1/ns/net is the initial netns, but a sandboxed PID 1 may refuse to be inspected (EACCES);
    // kernel threads (kthreadd is PID 2) always live in init_net, so theirs is the same namespace.
    // Our own netns is protected too: the runner lives in the host's namespace.
    private static readonly string[] InitialPaths = ["/proc/1/ns/net", "/proc/2/ns/net"];
    private const string OwnPath = "/proc/self/ns/net";

    private static readonly Lazy<IReadOnlyList<NetnsId>> Protected = new(ReadProtected);

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

    public static bool IsInitial(string netnsPath) => Protected.Value.Contains(NetnsId.Of(netnsPath));

    private static List<NetnsId> ReadProtected()
    {
        var ids = new List<NetnsId>();
        foreach (var path in InitialPaths)
        {
            if (NetnsId.TryOf(path, out var id, out _))
            {
                ids.Add(id);
            }
        }

        // Fail closed: without the initial namespace's identity nothing can be proven safe.
        if (ids.Count == 0)
        {
            throw new UnsafeNetnsException("refusing to run: cannot read the identity of the initial network namespace");
        }

        ids.Add(NetnsId.Of(OwnPath));
        return ids;
    }
}

/// <summary>Thrown when a command would have touched the host's network namespace.</summary>
public sealed class UnsafeNetnsException(string message) : Exception(message);
