using System.Runtime.InteropServices;
using Fwmark.Linux.Namespaces;

namespace Fwmark.Linux.Netlink;

/// <summary>
/// The transport: a netlink socket to the kernel for any protocol (NETLINK_NETFILTER, NETLINK_ROUTE,
/// ...), with extended ACK and capped ACKs on so error replies are small and carry the kernel's reason.
/// It owns the fd, its options and buffer sizes and moves datagrams; what the messages mean is
/// <see cref="NetlinkConversation"/>'s. Synchronous on purpose: a CNI call is one short command. Not
/// thread-safe; one per operation.
/// </summary>
public sealed class NetlinkSocket : INetlinkTransport
{
    /// <summary>Bigger than one dump chunk (the kernel fills up to ~32 KiB per datagram).</summary>
    private const int InitialReceiveBuffer = 64 * 1024;

    /// <summary>Upper bound on waiting for an answer the kernel owes us; it answers synchronously.</summary>
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(10);

    private readonly SafeFileDescriptor _fd;
    private byte[] _receiveBuffer = new byte[InitialReceiveBuffer];
    private int _sendBufferSize;
    private int _receiveBufferSize;

    private NetlinkSocket(SafeFileDescriptor fd, int protocol)
    {
        _fd = fd;
        Protocol = protocol;
    }

    public int Protocol { get; }

    /// <summary>The descriptor, for poll(2) and the agent's notification subscriptions (Agent/NetlinkSubscription.cs).</summary>
    internal SafeFileDescriptor Descriptor => _fd;

    /// <summary>
    /// Opens a socket for <paramref name="protocol"/>. With <paramref name="netnsPath"/> (e.g.
    /// /var/run/netns/x) the socket is created inside that network namespace and talks to it from
    /// then on; the process itself never changes namespace. Production passes null.
    /// </summary>
    public static NetlinkSocket Open(int protocol, string? netnsPath = null)
    {
        var fd = netnsPath is null
            ? CreateSocket(protocol)
            : NetworkNamespace.Run(netnsPath, () => CreateSocket(protocol));
        var socket = new NetlinkSocket(fd, protocol);
        try
        {
            socket.Configure();
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _fd.Dispose();

    /// <summary>setsockopt(2) with an int value, for options this class does not set itself.</summary>
    public unsafe void SetOption(int level, int option, int value)
    {
        if (Interop.SetSockOpt(_fd, level, option, &value, sizeof(int)) != 0)
        {
            throw new NetlinkException(Marshal.GetLastPInvokeError(), "setsockopt");
        }
    }

    public unsafe ulong? NetnsCookie
    {
        get
        {
            ulong cookie = 0;
            var length = (uint)sizeof(ulong);
            return Interop.GetSockOpt(_fd, Interop.SOL_SOCKET, Interop.SO_NETNS_COOKIE, &cookie, &length) == 0 && length == sizeof(ulong)
                ? cookie
                : null;
        }
    }

    /// <summary>Sends one datagram (a message or a whole batch) to the kernel.</summary>
    public unsafe void Send(ReadOnlySpan<byte> datagram)
    {
        // netlink_sendmsg refuses datagrams larger than the send buffer (EMSGSIZE).
        if (datagram.Length + 1024 > _sendBufferSize)
        {
            _sendBufferSize = GrowBuffer(Interop.SO_SNDBUFFORCE, Interop.SO_SNDBUF, datagram.Length * 2 + 4096);
        }

        var kernel = new Interop.SockAddrNetlink { Family = Interop.AF_NETLINK };
        fixed (byte* data = datagram)
        {
            var iov = new Interop.IoVec { Base = data, Length = (nuint)datagram.Length };
            var header = new Interop.MsgHdr
            {
                Name = &kernel,
                NameLength = (uint)sizeof(Interop.SockAddrNetlink),
                Iov = &iov,
                IovLength = 1,
            };
            nint sent;
            int errno;
            do
            {
                sent = Interop.SendMsg(_fd, &header, 0);
                errno = Marshal.GetLastPInvokeError();
            }
            while (sent < 0 && errno == Errno.EINTR);

            if (sent < 0)
            {
                throw new NetlinkException(errno, "sendmsg");
            }

            if (sent != datagram.Length)
            {
                throw new NetlinkException(Errno.EMSGSIZE, "sendmsg");
            }
        }
    }

    /// <summary>
    /// Makes sure the kernel can queue about <paramref name="bytes"/> of replies before we read
    /// them: replies to a batch are produced inside sendmsg, so a full receive queue drops them.
    /// </summary>
    public void EnsureReceiveBuffer(int bytes)
    {
        if (bytes > _receiveBufferSize)
        {
            _receiveBufferSize = GrowBuffer(Interop.SO_RCVBUFFORCE, Interop.SO_RCVBUF, bytes);
        }
    }

    /// <summary>
    /// Receives one datagram. With <paramref name="wait"/> false returns false when nothing is
    /// queued. The span is valid until the next receive. A datagram larger than the buffer is
    /// detected with MSG_PEEK|MSG_TRUNC before it is consumed, and the buffer grows to fit.
    /// </summary>
    public unsafe bool TryReceive(bool wait, out ReadOnlySpan<byte> datagram)
    {
        datagram = default;
        var flags = wait ? 0 : Interop.MSG_DONTWAIT;
        var length = ReceiveInto(flags | Interop.MSG_PEEK | Interop.MSG_TRUNC, out var truncated);
        if (length < 0)
        {
            return false;
        }

        if (length > _receiveBuffer.Length)
        {
            _receiveBuffer = new byte[NetlinkConstants.Align(length) + 4096];
        }

        length = ReceiveInto(Interop.MSG_DONTWAIT, out truncated);
        if (length < 0)
        {
            throw new NetlinkException(Errno.EAGAIN, "recvmsg");
        }

        if (truncated)
        {
            throw new NetlinkException(Errno.EMSGSIZE, "recvmsg");
        }

        datagram = _receiveBuffer.AsSpan(0, length);
        return true;
    }

    /// <summary>Returns the datagram length (the full one with MSG_TRUNC), or -1 when nothing is queued.</summary>
    private unsafe int ReceiveInto(int flags, out bool truncated)
    {
        var from = default(Interop.SockAddrNetlink);
        fixed (byte* data = _receiveBuffer)
        {
            var iov = new Interop.IoVec { Base = data, Length = (nuint)_receiveBuffer.Length };
            var header = new Interop.MsgHdr
            {
                Name = &from,
                NameLength = (uint)sizeof(Interop.SockAddrNetlink),
                Iov = &iov,
                IovLength = 1,
            };
            nint received;
            int errno;
            do
            {
                received = Interop.RecvMsg(_fd, &header, flags);
                errno = Marshal.GetLastPInvokeError();
            }
            while (received < 0 && errno == Errno.EINTR);

            truncated = (header.Flags & Interop.MSG_TRUNC) != 0;
            if (received < 0)
            {
                // EAGAIN: nothing queued (MSG_DONTWAIT) or SO_RCVTIMEO expired.
                return errno == Errno.EAGAIN ? -1 : throw new NetlinkException(errno, "recvmsg");
            }

            return (int)received;
        }
    }

    private static SafeFileDescriptor CreateSocket(int protocol)
    {
        var fd = Interop.Socket(Interop.AF_NETLINK, Interop.SOCK_RAW | Interop.SOCK_CLOEXEC, protocol);
        var errno = Marshal.GetLastPInvokeError();
        return fd >= 0 ? new SafeFileDescriptor(fd) : throw new NetlinkException(errno, "socket");
    }

    private unsafe void Configure()
    {
        var local = new Interop.SockAddrNetlink { Family = Interop.AF_NETLINK };
        if (Interop.Bind(_fd, &local, (uint)sizeof(Interop.SockAddrNetlink)) != 0)
        {
            throw new NetlinkException(Marshal.GetLastPInvokeError(), "bind");
        }

        SetOption(Interop.SOL_NETLINK, NetlinkConstants.NETLINK_EXT_ACK, 1);
        SetOption(Interop.SOL_NETLINK, NetlinkConstants.NETLINK_CAP_ACK, 1);
        var timeout = new Interop.TimeVal { Seconds = (nint)ReceiveTimeout.TotalSeconds };
        if (Interop.SetSockOpt(_fd, Interop.SOL_SOCKET, Interop.SO_RCVTIMEO, &timeout, (uint)sizeof(Interop.TimeVal)) != 0)
        {
            throw new NetlinkException(Marshal.GetLastPInvokeError(), "setsockopt");
        }
    }

    /// <summary>The FORCE variant (CAP_NET_ADMIN) ignores net.core.[rw]mem_max; fall back to the capped one.</summary>
    private int GrowBuffer(int forceOption, int option, int bytes)
    {
        try
        {
            SetOption(Interop.SOL_SOCKET, forceOption, bytes);
        }
        catch (NetlinkException e) when (e.Errno == Errno.EPERM)
        {
            SetOption(Interop.SOL_SOCKET, option, bytes);
        }

        return bytes;
    }
}
