using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Fwmark.Bench;

/// <summary>One notification the agent benchmark cares about, stamped when the bench read it.</summary>
/// <param name="Flags">ifi_flags of a link; rtm_type of a route.</param>
internal readonly record struct KernelEvent(long Timestamp, ushort Type, string? Name, uint Table, byte Protocol, uint Flags);

/// <summary>
/// A netlink socket subscribed to multicast groups, read by the benchmark itself: both ends of a measured
/// interval (the flush's notification, the agent's restore; the VPN link up, the agent's route) are read on
/// this one socket with one clock, so the number is the kernel-visible reaction, whatever the exec time of
/// the nft or ip command that caused it. Plain P/Invoke: the bench references no product code.
/// </summary>
internal sealed partial class KernelNotifications : IDisposable
{
    public const int NetlinkRoute = 0;
    public const int NetlinkNetfilter = 12;

    public const ushort NftDelTable = (10 << 8) | 2;
    public const ushort NftNewTable = (10 << 8) | 0;
    public const ushort RtmNewLink = 16;
    public const ushort RtmNewRoute = 24;

    private readonly int _fd;
    private readonly byte[] _buffer = new byte[1 << 20];

    public KernelNotifications(int protocol, params int[] groups)
    {
        _fd = Socket(16 /* AF_NETLINK */, 3 /* SOCK_RAW */ | 0x80000 /* SOCK_CLOEXEC */, protocol);
        if (_fd < 0)
            throw new InvalidOperationException($"failed to open a netlink socket: errno {Marshal.GetLastPInvokeError()}");
        var address = new byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(address, 16);
        if (Bind(_fd, address, address.Length) != 0)
            throw new InvalidOperationException($"failed to bind a netlink socket: errno {Marshal.GetLastPInvokeError()}");
        var size = 32 << 20;
        SetSockOpt(_fd, 1 /* SOL_SOCKET */, 33 /* SO_RCVBUFFORCE */, ref size, sizeof(int));
        // Blocking reads that give up every 20 ms (struct timeval), so waiting never burns a CPU the agent needs.
        var timeout = new long[] { 0, 20_000 };
        SetSockOptTime(_fd, 1 /* SOL_SOCKET */, 20 /* SO_RCVTIMEO */, timeout, 16);
        foreach (var group in groups)
        {
            var g = group;
            if (SetSockOpt(_fd, 270 /* SOL_NETLINK */, 1 /* NETLINK_ADD_MEMBERSHIP */, ref g, sizeof(int)) != 0)
                throw new InvalidOperationException($"failed to join netlink group {group}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Throws away everything queued.</summary>
    public void Drain()
    {
        while (Recv(_fd, _buffer, _buffer.Length, 0x40 /* MSG_DONTWAIT */) > 0)
        {
        }
    }

    /// <summary>Reads notifications until <paramref name="match"/> accepts one; fails after <paramref name="timeout"/>.</summary>
    public KernelEvent WaitFor(Func<KernelEvent, bool> match, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var n = Recv(_fd, _buffer, _buffer.Length, 0);
            if (n <= 0)
                continue;

            var stamp = Stopwatch.GetTimestamp();
            foreach (var e in Parse(_buffer.AsSpan(0, (int)n), stamp))
            {
                if (match(e))
                    return e;
            }
        }

        throw new TimeoutException($"failed to see {what} within {timeout.TotalSeconds} s");
    }

    public void Dispose() => Close(_fd);

    private static List<KernelEvent> Parse(ReadOnlySpan<byte> datagram, long stamp)
    {
        var events = new List<KernelEvent>();
        while (datagram.Length >= 16)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            if (length < 16 || length > datagram.Length)
                break;
            var type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
            var payload = datagram[16..length];
            events.Add(type switch
            {
                NftDelTable or NftNewTable => new KernelEvent(stamp, type, Attribute(payload, 4, 1) is { } n ? Text(n) : null, 0, 0, 0),
                RtmNewLink when payload.Length >= 16 => new KernelEvent(stamp, type, Attribute(payload, 16, 3) is { } n ? Text(n) : null, 0, 0, BinaryPrimitives.ReadUInt32LittleEndian(payload[8..])),
                RtmNewRoute when payload.Length >= 12 => new KernelEvent(
                    stamp, type, null, Attribute(payload, 12, 15) is { Length: 4 } t ? BinaryPrimitives.ReadUInt32LittleEndian(t) : payload[4], payload[5], payload[7]),
                _ => new KernelEvent(stamp, type, null, 0, 0, 0),
            });
            datagram = datagram[Math.Min(datagram.Length, (length + 3) & ~3)..];
        }

        return events;
    }

    private static byte[]? Attribute(ReadOnlySpan<byte> payload, int headerSize, ushort wanted)
    {
        var rest = payload[Math.Min(payload.Length, (headerSize + 3) & ~3)..];
        while (rest.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(rest);
            var type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(rest[2..]) & 0x3fff);
            if (length < 4 || length > rest.Length)
                break;
            if (type == wanted)
                return rest[4..length].ToArray();
            rest = rest[Math.Min(rest.Length, (length + 3) & ~3)..];
        }

        return null;
    }

    private static string Text(byte[] value) => Encoding.UTF8.GetString(value).TrimEnd('\0');

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static partial int Bind(int fd, byte[] address, int length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, ref int value, int length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOptTime(int fd, int level, int name, long[] value, int length);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static partial nint Recv(int fd, byte[] buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
