using System.Runtime.InteropServices;

namespace Fwmark.Linux;

internal static partial class Interop
{
    internal const int O_DIRECTORY = 0x10000;

    /// <summary>fsync(2) on a directory descriptor: makes a rename inside it durable.</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);
}
