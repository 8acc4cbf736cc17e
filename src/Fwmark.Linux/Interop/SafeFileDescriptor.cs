using System.Runtime.InteropServices;

namespace Fwmark.Linux;

/// <summary>Owns one raw file descriptor (socket, lock file, namespace handle) and closes it exactly once.</summary>
internal sealed class SafeFileDescriptor : SafeHandle
{
    internal SafeFileDescriptor(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    protected override bool ReleaseHandle() => Interop.Close((int)handle) == 0;
}
