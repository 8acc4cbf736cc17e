using System.Runtime.InteropServices;

namespace Fwmark.Linux;

internal static partial class Interop
{
    internal const int LOCK_EX = 2;
    internal const int LOCK_NB = 4;

    [LibraryImport(Libraries.Libc, EntryPoint = "flock", SetLastError = true)]
    internal static partial int Flock(SafeFileDescriptor fd, int operation);
}
