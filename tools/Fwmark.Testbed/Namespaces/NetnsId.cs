using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Fwmark.Testbed.Namespaces;

/// <summary>The identity of a network namespace: the (device, inode) of its nsfs file.</summary>
public readonly record struct NetnsId(uint DevMajor, uint DevMinor, ulong Inode)
{
    /// <summary>Reads the id behind a netns path (/var/run/netns/NAME, /proc/PID/ns/net); follows the magic link.</summary>
    public static NetnsId Of(string path)
    {
        if (!TryOf(path, out var id, out var errno))
        {
            throw new TestbedException($"failed to stat netns {path}: errno {errno}");
        }

        return id;
    }

    public static bool TryOf(string path, out NetnsId id, out int errno) =>
        Statx.TryGetIdentity(path, out id, out errno);

    public override string ToString() => $"net:[{Inode}] (dev {DevMajor}:{DevMinor})";
}

internal static partial class Statx
{
    private const int AtFdCwd = -100;
    private const uint StatxIno = 0x100;

    // struct statx has the same layout on every architecture (include/uapi/linux/stat.h).
    private const int StructSize = 256;
    private const int InoOffset = 32;
    private const int DevMajorOffset = 136;
    private const int DevMinorOffset = 140;

    public static unsafe bool TryGetIdentity(string path, out NetnsId id, out int errno)
    {
        Span<byte> buffer = stackalloc byte[StructSize];
        int rc;
        fixed (byte* p = buffer)
        {
            rc = Call(AtFdCwd, path, 0, StatxIno, p);
        }

        if (rc != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            id = default;
            return false;
        }

        errno = 0;
        id = new NetnsId(
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[DevMajorOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[DevMinorOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(buffer[InoOffset..]));
        return true;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Call(int dirfd, string path, int flags, uint mask, byte* buffer);
}
