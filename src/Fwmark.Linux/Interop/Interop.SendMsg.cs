using System.Runtime.InteropServices;

namespace Fwmark.Linux;

internal static partial class Interop
{
    [LibraryImport(Libraries.Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint SendMsg(SafeFileDescriptor fd, MsgHdr* message, int flags);
}
