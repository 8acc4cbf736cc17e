using System.Runtime.InteropServices;

namespace Fwmark.Linux;

internal static partial class Interop
{
    /// <summary>struct sockaddr_nl: port id 0 lets the kernel pick a unique one.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct SockAddrNetlink
    {
        internal ushort Family;
        internal ushort Pad;
        internal uint PortId;
        internal uint Groups;
    }

    [LibraryImport(Libraries.Libc, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(SafeFileDescriptor fd, SockAddrNetlink* address, uint addressLength);
}
