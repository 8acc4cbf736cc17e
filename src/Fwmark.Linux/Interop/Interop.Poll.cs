using System.Runtime.InteropServices;

namespace Fwmark.Linux;

internal static partial class Interop
{
    internal const short POLLIN = 0x001;

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        internal int Fd;
        internal short Events;
        internal short Revents;
    }

    [LibraryImport(Libraries.Libc, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);
}
