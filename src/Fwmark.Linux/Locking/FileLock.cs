using System.Runtime.InteropServices;

namespace Fwmark.Linux.Locking;

/// <summary>
/// An exclusive flock(2) on a lock file, held until disposed (closing the descriptor releases
/// it, also when the process dies). Serialises read-modify-write sequences of concurrent plugin
/// invocations; nf_tables transactions are atomic, but "look up, then decide" is not.
/// </summary>
internal sealed class FileLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly SafeFileDescriptor _fd;

    private FileLock(SafeFileDescriptor fd) => _fd = fd;

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the lock, polling with LOCK_NB so the wait is
    /// bounded. Throws <see cref="TimeoutException"/> when another holder keeps it longer.
    /// Creates the directory (0700) and the file (0600) when missing.
    /// </summary>
    public static FileLock Acquire(string path, TimeSpan timeout)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("fwmark locks with flock(2) and runs on Linux only");
        }

        if (directory is not null)
        {
            StateDirectory.Ensure(directory); // issue 8: a plain error naming the path and the fix
        }

        var raw = Interop.Open(path, Interop.O_RDWR | Interop.O_CREAT | Interop.O_CLOEXEC | Interop.O_NOFOLLOW, 0b110_000_000);
        var errno = Marshal.GetLastPInvokeError();
        if (raw < 0)
        {
            throw new StateDirectoryException(directory ?? path, $"cannot open the lock file {path} ({Errno.Describe(errno)}); make it a regular file that root can write, or remove it");
        }

        var fd = new SafeFileDescriptor(raw);

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Interop.Flock(fd, Interop.LOCK_EX | Interop.LOCK_NB) == 0)
            {
                return new FileLock(fd);
            }

            errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EAGAIN && errno != Errno.EINTR)
            {
                fd.Dispose();
                throw new IOException($"failed to lock {path}: {Errno.Describe(errno)}");
            }

            if (DateTime.UtcNow >= deadline)
            {
                fd.Dispose();
                throw new TimeoutException($"failed to lock {path}: still held by another process after {timeout.TotalSeconds:0.#}s");
            }

            Thread.Sleep(PollInterval);
        }
    }

    public void Dispose() => _fd.Dispose();
}
