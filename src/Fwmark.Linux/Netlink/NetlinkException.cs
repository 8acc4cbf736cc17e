namespace Fwmark.Linux.Netlink;

/// <summary>
/// A failed netlink call: either a syscall on the socket or an NLMSG_ERROR from the kernel. Callers
/// branch on <see cref="Errno"/> (or the predicates) instead of parsing text; the extended-ACK
/// fields carry what the kernel said about the request.
/// </summary>
public sealed class NetlinkException : Exception
{
    public NetlinkException(int errno, string? syscall = null, string? kernelMessage = null, uint? badAttributeOffset = null, uint? missingAttributeType = null)
        : base(Format(errno, syscall, kernelMessage))
    {
        Errno = errno;
        Syscall = syscall;
        KernelMessage = kernelMessage;
        BadAttributeOffset = badAttributeOffset;
        MissingAttributeType = missingAttributeType;
    }

    public NetlinkException(NetlinkError error)
        : this(error.Errno, kernelMessage: error.Message, badAttributeOffset: error.BadAttributeOffset, missingAttributeType: error.MissingAttributeType)
    {
    }

    /// <summary>Positive errno.</summary>
    public int Errno { get; }

    /// <summary>The libc call that failed, or null when the kernel rejected a message.</summary>
    public string? Syscall { get; }

    /// <summary>Extended-ACK text (NLMSGERR_ATTR_MSG), when the kernel gave one.</summary>
    public string? KernelMessage { get; }

    /// <summary>Offset of the rejected attribute inside the request (NLMSGERR_ATTR_OFFS).</summary>
    public uint? BadAttributeOffset { get; }

    /// <summary>Type of a required attribute the request lacked (NLMSGERR_ATTR_MISS_TYPE): the kernel's "attribute missing".</summary>
    public uint? MissingAttributeType { get; }

    public string ErrnoName => Linux.Errno.Name(Errno);

    public bool IsNotFound => Errno == Linux.Errno.ENOENT;

    /// <summary>"EEXIST (17); kernel: ...; bad attribute at offset 36" for CNI error details.</summary>
    public string Details
    {
        get
        {
            var text = $"{ErrnoName} ({Errno})";
            if (Syscall is not null)
            {
                text += $" from {Syscall}()";
            }

            if (KernelMessage is not null)
            {
                text += $"; kernel: {KernelMessage}";
            }

            if (BadAttributeOffset is { } offset)
            {
                text += $"; kernel rejected the attribute at byte {offset} of the request";
            }

            if (MissingAttributeType is { } type)
            {
                text += $"; kernel missed required attribute type {type}";
            }

            return text;
        }
    }

    private static string Format(int errno, string? syscall, string? kernelMessage)
    {
        var text = Linux.Errno.Describe(errno);
        if (syscall is not null)
        {
            text = $"{syscall}: {text}";
        }

        return kernelMessage is null ? text : $"{text} (kernel: {kernelMessage})";
    }
}
