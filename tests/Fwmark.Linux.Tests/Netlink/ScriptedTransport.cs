using System.Buffers.Binary;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Tests.Netlink;

/// <summary>
/// A fake kernel for <see cref="NetlinkConversation"/>: each datagram sent is handed to the script,
/// which answers with the datagrams to queue (the model is mdlayher/netlink's nltest). Receiving from
/// an empty queue reports a timeout, as the real socket's SO_RCVTIMEO does. Records every send and
/// whether each receive was allowed to wait.
/// </summary>
internal sealed class ScriptedTransport(Func<byte[], int, IEnumerable<byte[]>> script) : INetlinkTransport
{
    /// <summary>A conversation that keeps sending beyond this is looping: fail the test instead of hanging it.</summary>
    private const int MaxSends = 50;

    private readonly Queue<byte[]> _queued = new();

    public List<byte[]> Sent { get; } = [];

    public List<bool> Receives { get; } = [];

    public int Protocol => 12;

    public void SetOption(int level, int option, int value)
    {
    }

    public void Send(ReadOnlySpan<byte> datagram)
    {
        Sent.Add(datagram.ToArray());
        if (Sent.Count > MaxSends)
        {
            throw new InvalidOperationException($"the conversation sent more than {MaxSends} datagrams");
        }

        foreach (var reply in script(datagram.ToArray(), Sent.Count))
        {
            _queued.Enqueue(reply);
        }
    }

    public void EnsureReceiveBuffer(int bytes)
    {
    }

    public bool TryReceive(bool wait, out ReadOnlySpan<byte> datagram)
    {
        Receives.Add(wait);
        datagram = _queued.TryDequeue(out var next) ? next : default;
        return next is not null;
    }

    public void Dispose()
    {
    }

    /// <summary>nlmsg_seq of the first message of a datagram.</summary>
    public static uint SequenceOf(byte[] datagram) => BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(8));
}

/// <summary>Builds the kernel's side of the conversation: data messages, NLMSG_DONE, ACKs and errors with ext-ack TLVs.</summary>
internal static class Kernel
{
    public const ushort DataType = 0x10 + 1;

    public static byte[] Data(uint sequence, string payload, ushort flags = NetlinkConstants.NLM_F_MULTI)
    {
        var writer = new NetlinkWriter();
        var message = writer.BeginMessage(DataType, flags, sequence);
        writer.WriteString(1, payload);
        writer.EndMessage(message);
        return writer.ToArray();
    }

    public static byte[] Done(uint sequence, ushort flags = NetlinkConstants.NLM_F_MULTI, int errno = 0)
    {
        var writer = new NetlinkWriter();
        var message = writer.BeginMessage(NetlinkConstants.NLMSG_DONE, flags, sequence);
        BinaryPrimitives.WriteInt32LittleEndian(writer.ReserveHeader(4), -errno);
        writer.EndMessage(message);
        return writer.ToArray();
    }

    /// <summary>A capped NLMSG_ERROR answering <paramref name="sequence"/> (errno 0 = ACK).</summary>
    public static byte[] Error(uint sequence, int errno = 0, string? text = null, uint? missingType = null)
    {
        var writer = new NetlinkWriter();
        var tlvs = text is not null || missingType is not null;
        var flags = (ushort)(NetlinkConstants.NLM_F_CAPPED | (tlvs ? NetlinkConstants.NLM_F_ACK_TLVS : 0));
        var message = writer.BeginMessage(NetlinkConstants.NLMSG_ERROR, flags, sequence);
        var header = writer.ReserveHeader(4 + NetlinkConstants.MessageHeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(header, -errno);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], NetlinkConstants.MessageHeaderSize); // the echoed request's header
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], sequence);
        if (text is not null)
        {
            writer.WriteString(NetlinkConstants.NLMSGERR_ATTR_MSG, text);
        }

        if (missingType is { } type)
        {
            writer.WriteU32(NetlinkConstants.NLMSGERR_ATTR_MISS_TYPE, type);
        }

        writer.EndMessage(message);
        return writer.ToArray();
    }

    public static byte[] Join(params byte[][] messages) => [.. messages.SelectMany(m => m)];

    /// <summary>A request or dump with the given flags (the conversation reads only the header).</summary>
    public static byte[] Request(uint sequence, ushort flags)
    {
        var writer = new NetlinkWriter();
        var message = writer.BeginMessage(DataType, (ushort)(NetlinkConstants.NLM_F_REQUEST | flags), sequence);
        writer.EndMessage(message);
        return writer.ToArray();
    }
}
