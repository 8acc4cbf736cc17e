using System.Runtime.InteropServices;

namespace Fwmark.Linux.Netlink;

/// <summary>
/// Walks a run of attributes (a message body or the inside of a nest). Each nla_len is checked
/// against the bytes present; violations throw <see cref="NetlinkFormatException"/> only.
/// </summary>
public ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes) => _remaining = attributes;

    public bool TryRead(out NetlinkAttribute attribute)
    {
        attribute = default;
        if (_remaining.IsEmpty)
        {
            return false;
        }

        if (_remaining.Length < NetlinkConstants.AttributeHeaderSize)
        {
            throw new NetlinkFormatException($"truncated attribute header: {_remaining.Length} bytes left");
        }

        var length = MemoryMarshal.Read<ushort>(_remaining);
        if (length < NetlinkConstants.AttributeHeaderSize || length > _remaining.Length)
        {
            throw new NetlinkFormatException($"attribute length {length} does not fit the {_remaining.Length} bytes left");
        }

        attribute = new NetlinkAttribute(
            MemoryMarshal.Read<ushort>(_remaining[2..]),
            _remaining[NetlinkConstants.AttributeHeaderSize..length]);
        var next = NetlinkConstants.Align(length);
        _remaining = next >= _remaining.Length ? [] : _remaining[next..];
        return true;
    }

    /// <summary>Finds the first attribute of <paramref name="type"/> in the rest of the run.</summary>
    public bool TryFind(ushort type, out NetlinkAttribute attribute)
    {
        while (TryRead(out attribute))
        {
            if (attribute.Type == type)
            {
                return true;
            }
        }

        return false;
    }
}
