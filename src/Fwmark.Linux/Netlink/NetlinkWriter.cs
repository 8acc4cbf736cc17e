using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Fwmark.Linux.Netlink;

/// <summary>
/// Builds netlink messages in a growable buffer. A message or nested attribute is opened with a
/// Begin call whose token the matching End call uses to back-patch the length once the contents
/// are known, so callers never count bytes. Host byte order for headers and plain integers;
/// the BigEndian writers are for attributes the protocol defines as __be16/32/64 (nf_tables).
/// Spans handed out by <see cref="ReserveHeader"/> are valid only until the next write.
/// </summary>
public ref struct NetlinkWriter
{
    private byte[] _buffer;
    private int _length;

    private const int DefaultCapacity = 4096;

    // Explicit, so `new NetlinkWriter()` does not silently mean the all-zero struct.
    public NetlinkWriter()
        : this(DefaultCapacity)
    {
    }

    public NetlinkWriter(int initialCapacity)
    {
        _buffer = new byte[Math.Max(initialCapacity, 64)];
        _length = 0;
    }

    public readonly int Length => _length;

    public readonly ReadOnlySpan<byte> WrittenSpan => _buffer is null ? [] : _buffer.AsSpan(0, _length);

    public readonly byte[] ToArray() => WrittenSpan.ToArray();

    /// <summary>Starts a message; <see cref="EndMessage"/> fills in nlmsg_len.</summary>
    public MessageToken BeginMessage(ushort type, ushort flags, uint sequence, uint portId = 0)
    {
        var start = _length;
        var header = Grow(NetlinkConstants.MessageHeaderSize);
        WriteHost16(header[4..], type);
        WriteHost16(header[6..], flags);
        WriteHost32(header[8..], sequence);
        WriteHost32(header[12..], portId);
        return new MessageToken(start);
    }

    public void EndMessage(MessageToken token)
    {
        CheckToken(token.Offset, NetlinkConstants.MessageHeaderSize);
        WriteHost32(_buffer.AsSpan(token.Offset), (uint)(_length - token.Offset));
    }

    /// <summary>
    /// Reserves a zeroed, 4-byte padded protocol header right after the nlmsghdr (struct nfgenmsg,
    /// struct rtmsg, ...) and returns it for the caller to fill.
    /// </summary>
    public Span<byte> ReserveHeader(int size) => Grow(size)[..size];

    public void WriteAttribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        var total = NetlinkConstants.AttributeHeaderSize + value.Length;
        if (total > NetlinkConstants.MaxAttributeLength)
        {
            throw new NetlinkFormatException($"attribute {type} of {value.Length} bytes exceeds the netlink limit");
        }

        var span = Grow(total);
        WriteHost16(span, (ushort)total);
        WriteHost16(span[2..], type);
        value.CopyTo(span[NetlinkConstants.AttributeHeaderSize..]);
    }

    /// <summary>A zero-length attribute (presence is the value).</summary>
    public void WriteFlag(ushort type) => WriteAttribute(type, []);

    public void WriteU8(ushort type, byte value) => WriteAttribute(type, [value]);

    public void WriteU16(ushort type, ushort value)
    {
        Span<byte> v = stackalloc byte[2];
        WriteHost16(v, value);
        WriteAttribute(type, v);
    }

    public void WriteU32(ushort type, uint value)
    {
        Span<byte> v = stackalloc byte[4];
        WriteHost32(v, value);
        WriteAttribute(type, v);
    }

    public void WriteBigEndianU16(ushort type, ushort value)
    {
        Span<byte> v = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(v, value);
        WriteAttribute(type, v);
    }

    public void WriteBigEndianU32(ushort type, uint value)
    {
        Span<byte> v = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(v, value);
        WriteAttribute(type, v);
    }

    public void WriteBigEndianU64(ushort type, ulong value)
    {
        Span<byte> v = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(v, value);
        WriteAttribute(type, v);
    }

    /// <summary>UTF-8 text with the terminating NUL the kernel's NLA_STRING/NLA_NUL_STRING policies expect.</summary>
    public void WriteString(ushort type, string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        Span<byte> v = count < 256 ? stackalloc byte[count + 1] : new byte[count + 1];
        Encoding.UTF8.GetBytes(value, v);
        v[count] = 0;
        WriteAttribute(type, v);
    }

    /// <summary>Opens a nested attribute (NLA_F_NESTED set); close it with <see cref="EndNested"/>.</summary>
    public NestToken BeginNested(ushort type)
    {
        var start = _length;
        var span = Grow(NetlinkConstants.AttributeHeaderSize);
        WriteHost16(span[2..], (ushort)(type | NetlinkConstants.NLA_F_NESTED));
        return new NestToken(start);
    }

    public void EndNested(NestToken token)
    {
        CheckToken(token.Offset, NetlinkConstants.AttributeHeaderSize);
        var total = _length - token.Offset;
        if (total > NetlinkConstants.MaxAttributeLength)
        {
            throw new NetlinkFormatException($"nested attribute of {total} bytes exceeds the netlink limit");
        }

        // Children are already padded, so the nest length equals its aligned size.
        WriteHost16(_buffer.AsSpan(token.Offset), (ushort)total);
    }

    /// <summary>Appends <paramref name="size"/> zeroed bytes plus alignment padding; returns the padded span.</summary>
    private Span<byte> Grow(int size)
    {
        var padded = NetlinkConstants.Align(size);
        _buffer ??= new byte[DefaultCapacity]; // a default(NetlinkWriter) still works
        if (_length + padded > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + padded));
        }

        var span = _buffer.AsSpan(_length, padded);
        span.Clear();
        _length += padded;
        return span;
    }

    private readonly void CheckToken(int offset, int headerSize)
    {
        if (offset < 0 || offset + headerSize > _length)
        {
            throw new InvalidOperationException("netlink writer token does not belong to this buffer position");
        }
    }

    // MemoryMarshal writes in the CPU's byte order, which is what netlink calls host order.
    private static void WriteHost16(Span<byte> span, ushort value) => MemoryMarshal.Write(span, in value);

    private static void WriteHost32(Span<byte> span, uint value) => MemoryMarshal.Write(span, in value);

    /// <summary>Marks where a message started; only <see cref="EndMessage"/> uses it.</summary>
    public readonly struct MessageToken
    {
        internal MessageToken(int offset) => Offset = offset;

        internal int Offset { get; }
    }

    /// <summary>Marks where a nested attribute started; only <see cref="EndNested"/> uses it.</summary>
    public readonly struct NestToken
    {
        internal NestToken(int offset) => Offset = offset;

        internal int Offset { get; }
    }
}
