using System.Runtime.InteropServices;

namespace Fwmark.Linux;

internal static partial class Interop
{
    /// <summary>The 64-bit cookie of the socket's network namespace (Linux 5.14+): unique for the boot, never reused.</summary>
    internal const int SO_NETNS_COOKIE = 71;

    [LibraryImport(Libraries.Libc, EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int GetSockOpt(SafeFileDescriptor fd, int level, int name, void* value, uint* valueLength);
}
