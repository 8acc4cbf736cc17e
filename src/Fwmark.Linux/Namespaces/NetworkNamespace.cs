using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Fwmark.Linux.Namespaces;

/// <summary>
/// Runs code inside another network namespace without moving the process: setns(2) affects only
/// the calling OS thread, so the work happens on a short-lived dedicated thread. Sockets created
/// there stay bound to that namespace for their whole life, wherever they are used afterwards.
/// </summary>
public static class NetworkNamespace
{
    public static T Run<T>(string netnsPath, Func<T> action)
    {
        ArgumentException.ThrowIfNullOrEmpty(netnsPath);
        T? result = default;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = RunHere(netnsPath, action);
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "netns",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result!;
    }

    private static T RunHere<T>(string netnsPath, Func<T> action)
    {
        using var target = OpenNamespace(netnsPath);
        using var home = OpenNamespace("/proc/thread-self/ns/net");
        if (Interop.SetNs(target, Interop.CLONE_NEWNET) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"failed to enter network namespace {netnsPath}: {Errno.Describe(errno)}");
        }

        try
        {
            return action();
        }
        finally
        {
            // Not strictly needed (the thread ends here and the OS thread with it), but a thread
            // that outlives us in a foreign namespace would be a trap for whoever reuses it.
            _ = Interop.SetNs(home, Interop.CLONE_NEWNET);
        }
    }

    private static SafeFileDescriptor OpenNamespace(string path)
    {
        var fd = Interop.Open(path, Interop.O_RDONLY | Interop.O_CLOEXEC, 0);
        var errno = Marshal.GetLastPInvokeError();
        return fd >= 0
            ? new SafeFileDescriptor(fd)
            : throw new IOException($"failed to open network namespace {path}: {Errno.Describe(errno)}");
    }
}
