using System.Runtime.InteropServices;
using Fwmark.Linux.Namespaces;

namespace Fwmark.Linux.Netlink;

/// <summary>
/// A netlink socket to the kernel for any protocol (NETLINK_NETFILTER, NETLINK_ROUTE, ...), with
/// extended ACK and capped ACKs on so error replies are small and carry the kernel's reason.
/// Synchronous on purpose: a CNI call is one short command. Not thread-safe; one per operation.
/// </summary>
public sealed class NetlinkSocket : IDisposable
{
    /// <summary>Bigger than one dump chunk (the kernel fills up to ~32 KiB per datagram).</summary>
    private const int InitialReceiveBuffer = 64 * 1024;

    /// <summary>Upper bound on waiting for an answer the kernel owes us; it answers synchronously.</summary>
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(10);

    private readonly SafeFileDescriptor _fd;
    private byte[] _receiveBuffer = new byte[InitialReceiveBuffer];
    private int _sendBufferSize;
    private int _receiveBufferSize;
    private uint _sequence;

    private NetlinkSocket(SafeFileDescriptor fd, int protocol)
    {
        _fd = fd;
        Protocol = protocol;
        // Distinct starting points make a stale reply from an earlier socket easy to spot in traces.
        _sequence = (uint)Environment.TickCount;
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

    /// <summary>A fresh nlmsg_seq; replies carry it back.</summary>
    public uint NextSequence() => ++_sequence;

    public void Dispose() => _fd.Dispose();

    /// <summary>setsockopt(2) with an int value, for options this class does not set itself.</summary>
    public unsafe void SetOption(int level, int option, int value)
    {
        if (Interop.SetSockOpt(_fd, level, option, &value, sizeof(int)) != 0)
        {
            throw new NetlinkException(Marshal.GetLastPInvokeError(), "setsockopt");
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

    /// <summary>
    /// Sends a request that has NLM_F_ACK set and waits for its ACK. Reply messages carrying the
    /// request's sequence number (e.g. the object a GET asked for) go to <paramref name="onReply"/>.
    /// A kernel error is thrown as <see cref="NetlinkException"/>.
    /// </summary>
    public void Request(ReadOnlySpan<byte> request, NetlinkMessageHandler? onReply = null)
    {
        var (sequence, flags) = HeaderOf(request);
        if ((flags & NetlinkConstants.NLM_F_ACK) == 0)
        {
            throw new ArgumentException("a request must set NLM_F_ACK or its end cannot be detected", nameof(request));
        }

        Send(request);
        while (true)
        {
            ReceiveOrThrow(out var datagram);
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                {
                    continue; // a late answer to something earlier on this socket
                }

                if (message.IsError)
                {
                    var error = message.ReadError();
                    if (!error.IsAck)
                    {
                        throw new NetlinkException(error);
                    }

                    return;
                }

                onReply?.Invoke(message);
            }
        }
    }

    /// <summary>
    /// Sends a dump request (NLM_F_DUMP) and hands every reply message to
    /// <paramref name="onMessage"/> until NLMSG_DONE. Returns false when the kernel flagged the
    /// dump as interrupted by a concurrent change (NLM_F_DUMP_INTR): the caller should discard
    /// what it collected and dump again.
    /// </summary>
    public bool Dump(ReadOnlySpan<byte> request, NetlinkMessageHandler onMessage)
    {
        var (sequence, _) = HeaderOf(request);
        Send(request);
        var consistent = true;
        while (true)
        {
            ReceiveOrThrow(out var datagram);
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                {
                    continue;
                }

                if ((message.Flags & NetlinkConstants.NLM_F_DUMP_INTR) != 0)
                {
                    consistent = false;
                }

                if (message.IsDone || message.IsError)
                {
                    var status = message.ReadError();
                    if (!status.IsAck)
                    {
                        throw new NetlinkException(status);
                    }

                    if (message.IsDone)
                    {
                        return consistent;
                    }

                    continue;
                }

                onMessage(message);
            }
        }
    }

    /// <summary>
    /// Sends a batch and collects the answer (ACK or error) for each of
    /// <paramref name="sequences"/>. The kernel processes a batch inside sendmsg, so every answer
    /// is already queued when it returns; after the first error the remaining ones are read
    /// without blocking because a failed batch may leave some messages unanswered.
    /// </summary>
    public Dictionary<uint, NetlinkError> SendBatch(ReadOnlySpan<byte> batch, IReadOnlyCollection<uint> sequences)
    {
        // A capped ACK with TLVs takes well under 1 KiB of receive-queue truesize.
        EnsureReceiveBuffer(64 * 1024 + sequences.Count * 1024);
        var wanted = new HashSet<uint>(sequences);
        var answers = new Dictionary<uint, NetlinkError>();
        Send(batch);
        var failed = false;
        while (answers.Count < wanted.Count)
        {
            if (!failed)
            {
                ReceiveOrThrow(out var datagram);
                failed = Collect(datagram, wanted, answers);
            }
            else if (TryReceive(wait: false, out var datagram))
            {
                Collect(datagram, wanted, answers);
            }
            else
            {
                break;
            }
        }

        return answers;
    }

    private static bool Collect(ReadOnlySpan<byte> datagram, HashSet<uint> wanted, Dictionary<uint, NetlinkError> answers)
    {
        var failed = false;
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (!message.IsError)
            {
                continue;
            }

            var answer = message.ReadError();
            if (wanted.Contains(answer.Sequence))
            {
                answers[answer.Sequence] = answer;
            }
            else if (!answer.IsAck)
            {
                // An error for a message we did not ask about (e.g. the batch header itself).
                answers[answer.Sequence] = answer;
            }

            failed |= !answer.IsAck;
        }

        return failed;
    }

    private void ReceiveOrThrow(out ReadOnlySpan<byte> datagram)
    {
        if (!TryReceive(wait: true, out datagram))
        {
            throw new NetlinkException(Errno.ETIMEDOUT, "recvmsg");
        }
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

    private static (uint Sequence, ushort Flags) HeaderOf(ReadOnlySpan<byte> request)
    {
        if (request.Length < NetlinkConstants.MessageHeaderSize)
        {
            throw new ArgumentException("request is shorter than a netlink header", nameof(request));
        }

        return (MemoryMarshal.Read<uint>(request[8..]), MemoryMarshal.Read<ushort>(request[6..]));
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
