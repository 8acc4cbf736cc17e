using System.Runtime.InteropServices;

namespace Fwmark.Linux;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint RecvMsg(SafeFileDescriptor fd, MsgHdr* message, int flags);
}
