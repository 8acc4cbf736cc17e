using System.Runtime.InteropServices;

namespace Fwmark.Linux;

internal static partial class Interop
{
    internal const int O_RDONLY = 0x0;
    internal const int O_RDWR = 0x2;
    internal const int O_CREAT = 0x40;
    internal const int O_NOFOLLOW = 0x20000;
    internal const int O_CLOEXEC = 0x80000;

    /// <summary>
    /// Plain open(2): FileStream/File.OpenHandle would take their own advisory flock on the file,
    /// which must not mix with the lock this layer manages itself. Returns a plain int: a
    /// SafeHandle return would be read as a pointer-sized value, and the upper half of a C int
    /// return register is undefined, so -1 could come back as 4294967295.
    /// </summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, uint mode);
}
