using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Fwmark.Linux.Netlink;

/// <summary>
/// One attribute (type without the NESTED/BYTEORDER flag bits, and its value). Typed getters
/// require the exact size the protocol defines, so a malformed value is reported, not misread.
/// </summary>
public readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> value)
    {
        RawType = rawType;
        Value = value;
    }

    /// <summary>nla_type as received, flag bits included.</summary>
    public ushort RawType { get; }

    public ushort Type => (ushort)(RawType & NetlinkConstants.NLA_TYPE_MASK);

    public bool IsNested => (RawType & NetlinkConstants.NLA_F_NESTED) != 0;

    public ReadOnlySpan<byte> Value { get; }

    public byte GetU8() => Fixed(1)[0];

    public uint GetU32() => MemoryMarshal.Read<uint>(Fixed(4));

    public uint GetBigEndianU32() => BinaryPrimitives.ReadUInt32BigEndian(Fixed(4));

    public ulong GetBigEndianU64() => BinaryPrimitives.ReadUInt64BigEndian(Fixed(8));

    /// <summary>UTF-8 text up to the first NUL (the kernel always terminates; tolerate a missing one).</summary>
    public string GetString()
    {
        var end = Value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? Value : Value[..end]);
    }

    /// <summary>The children of a nested attribute.</summary>
    public NetlinkAttributeReader GetNested() => new(Value);

    private ReadOnlySpan<byte> Fixed(int size) =>
        Value.Length == size
            ? Value
            : throw new NetlinkFormatException($"attribute {Type} has {Value.Length} bytes, expected {size}");
}
