using System.Runtime.InteropServices;

namespace Fwmark.Linux;

internal static partial class Interop
{
    /// <summary>Joins a multicast group (setsockopt at SOL_NETLINK; the value is the group number).</summary>
    internal const int NETLINK_ADD_MEMBERSHIP = 1;

    /// <summary>ENOBUFS on recvmsg: the kernel dropped notifications because the receive queue was full.</summary>
    internal const int NETLINK_NO_ENOBUFS = 5;

    [LibraryImport(Libraries.Libc, EntryPoint = "getsockname", SetLastError = true)]
    internal static unsafe partial int GetSockName(SafeFileDescriptor fd, SockAddrNetlink* address, uint* addressLength);
}
