using Fwmark.Core;
using Fwmark.Linux.Locking;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Session;

/// <summary>
/// The one way the adapters talk to the kernel: take the node lock (when the work reads, decides and
/// writes), open a netlink socket of <see cref="Protocol"/> inside the target namespace, run the work,
/// close, release, and turn whatever failed into a <see cref="DataplaneException"/>
/// (<see cref="LinuxErrors"/>). The nftables dataplane and the policy routing share the lock file, so
/// a routing Ensure and an nftables Install never interleave.
/// </summary>
/// <param name="protocol">NETLINK_NETFILTER or NETLINK_ROUTE.</param>
/// <param name="netnsPath">Network namespace to program (tests); null = the current one (production).</param>
/// <param name="lockPath">Lock file serialising invocations; default <see cref="DefaultLockPath"/>.</param>
/// <param name="lockTimeout">How long to wait for the lock; default <see cref="DefaultLockTimeout"/>.</param>
public sealed class KernelSession(int protocol, string? netnsPath = null, string? lockPath = null, TimeSpan? lockTimeout = null)
{
    /// <summary>The node-wide lock every fwmark writer takes (nftables and routing alike).</summary>
    public const string DefaultLockPath = "/run/fwmark/fwmark.lock";

    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(30);

    public int Protocol { get; } = protocol;

    public string? NetnsPath { get; } = netnsPath;

    public string LockPath { get; } = lockPath ?? DefaultLockPath;

    public TimeSpan LockTimeout { get; } = lockTimeout ?? DefaultLockTimeout;

    /// <summary>
    /// Runs <paramref name="work"/> under the node lock. A flock is per open file, so a caller must not
    /// nest two locked runs: the second would wait for the first until it times out.
    /// </summary>
    public T Locked<T>(string what, Func<NetlinkConversation, T> work) => Run(what, locked: true, work);

    /// <summary>
    /// As <see cref="Locked{T}"/>, but when the lock's directory cannot be used (a file in the way, a
    /// read-only /run) asks <paramref name="nothingToDo"/> (run without the lock): true means there is
    /// nothing to change anyway and <paramref name="done"/> is returned; false reports the directory
    /// problem. DEL must not fail for a lock it does not need (issue 8).
    /// </summary>
    public T LockedUnlessNothingToDo<T>(string what, Func<NetlinkConversation, T> work, Func<NetlinkConversation, bool> nothingToDo, T done)
    {
        try
        {
            return Locked(what, work);
        }
        catch (DataplaneException e) when (e.InnerException is StateDirectoryException && Unlocked(what, nothingToDo))
        {
            return done;
        }
    }

    /// <summary>Runs read-only <paramref name="work"/> without the lock.</summary>
    public T Unlocked<T>(string what, Func<NetlinkConversation, T> work) => Run(what, locked: false, work);

    private T Run<T>(string what, bool locked, Func<NetlinkConversation, T> work)
    {
        FileLock? held = null;
        try
        {
            held = locked ? FileLock.Acquire(LockPath, LockTimeout) : null;
            using var socket = NetlinkConversation.Open(Protocol, NetnsPath);
            return work(socket);
        }
        catch (Exception e) when (e is not DataplaneException)
        {
            throw LinuxErrors.Translate(what, e);
        }
        finally
        {
            held?.Dispose();
        }
    }
}
