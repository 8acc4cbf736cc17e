namespace Fwmark.Linux.Netlink;

/// <summary>
/// Datagrams to and from the kernel: what <see cref="NetlinkConversation"/> needs of a socket, and
/// nothing of the protocol on top. <see cref="NetlinkSocket"/> is the real one; tests script one.
/// </summary>
public interface INetlinkTransport : IDisposable
{
    /// <summary>NETLINK_NETFILTER, NETLINK_ROUTE, ...</summary>
    int Protocol { get; }

    /// <summary>
    /// The cookie of the network namespace the socket talks to (SO_NETNS_COOKIE): unlike the namespace's inode
    /// number it is never reused within a boot. Null when the kernel or the transport cannot say.
    /// </summary>
    ulong? NetnsCookie => null;

    /// <summary>setsockopt(2) with an int value.</summary>
    void SetOption(int level, int option, int value);

    /// <summary>Sends one datagram (a message or a whole batch).</summary>
    void Send(ReadOnlySpan<byte> datagram);

    /// <summary>Makes room for about <paramref name="bytes"/> of queued replies (those to a batch are queued inside sendmsg).</summary>
    void EnsureReceiveBuffer(int bytes);

    /// <summary>
    /// Receives one datagram, valid until the next receive. With <paramref name="wait"/> false returns
    /// false when nothing is queued; with true, false means the receive timed out.
    /// </summary>
    bool TryReceive(bool wait, out ReadOnlySpan<byte> datagram);
}
