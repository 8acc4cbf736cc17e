using System.Runtime.InteropServices;

namespace Fwmark.Linux.Netlink;

/// <summary>
/// Walks the messages of one received datagram. Every nlmsg_len is checked against the bytes
/// actually present; a violation throws <see cref="NetlinkFormatException"/> and nothing else.
/// </summary>
public ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram) => _remaining = datagram;

    public bool TryRead(out NetlinkMessage message)
    {
        message = default;
        if (_remaining.IsEmpty)
        {
            return false;
        }

        if (_remaining.Length < NetlinkConstants.MessageHeaderSize)
        {
            throw new NetlinkFormatException($"truncated netlink header: {_remaining.Length} bytes left");
        }

        var length = MemoryMarshal.Read<uint>(_remaining);
        if (length < NetlinkConstants.MessageHeaderSize || length > (uint)_remaining.Length)
        {
            throw new NetlinkFormatException($"netlink message length {length} does not fit the {_remaining.Length} bytes left");
        }

        message = new NetlinkMessage(
            type: MemoryMarshal.Read<ushort>(_remaining[4..]),
            flags: MemoryMarshal.Read<ushort>(_remaining[6..]),
            sequence: MemoryMarshal.Read<uint>(_remaining[8..]),
            portId: MemoryMarshal.Read<uint>(_remaining[12..]),
            payload: _remaining[NetlinkConstants.MessageHeaderSize..(int)length]);

        // The last message may omit its trailing padding.
        var next = NetlinkConstants.Align((int)length);
        _remaining = next >= _remaining.Length ? [] : _remaining[next..];
        return true;
    }
}
