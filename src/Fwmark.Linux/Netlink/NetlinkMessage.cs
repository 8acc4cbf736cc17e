using System.Runtime.InteropServices;

namespace Fwmark.Linux.Netlink;

/// <summary>One message of a received datagram: the nlmsghdr fields plus the bytes after the header.</summary>
public readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, ushort flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    public ushort Type { get; }

    public ushort Flags { get; }

    public uint Sequence { get; }

    public uint PortId { get; }

    /// <summary>Everything after the 16-byte header (family header, then attributes).</summary>
    public ReadOnlySpan<byte> Payload { get; }

    public bool IsError => Type == NetlinkConstants.NLMSG_ERROR;

    public bool IsDone => Type == NetlinkConstants.NLMSG_DONE;

    /// <summary>
    /// The attributes that follow a family header of <paramref name="familyHeaderSize"/> bytes
    /// (4 for nfgenmsg, 12 for rtmsg, ...).
    /// </summary>
    public NetlinkAttributeReader Attributes(int familyHeaderSize)
    {
        var skip = NetlinkConstants.Align(familyHeaderSize);
        if (skip > Payload.Length)
        {
            throw new NetlinkFormatException($"message type {Type} is shorter than its {familyHeaderSize}-byte family header");
        }

        return new NetlinkAttributeReader(Payload[skip..]);
    }

    /// <summary>
    /// Decodes an NLMSG_ERROR (ACK when errno is 0) or the status word of an NLMSG_DONE,
    /// including extended-ACK TLVs. Only valid when <see cref="IsError"/> or <see cref="IsDone"/>.
    /// </summary>
    public NetlinkError ReadError()
    {
        if (Payload.Length < 4)
        {
            throw new NetlinkFormatException($"netlink status message of {Payload.Length} bytes has no error code");
        }

        var code = MemoryMarshal.Read<int>(Payload);
        uint? originalSequence = null;
        ReadOnlySpan<byte> tlvs = [];
        if (IsError)
        {
            // struct nlmsgerr: int error; struct nlmsghdr msg; [original payload unless capped]; [TLVs]
            if (Payload.Length < 4 + NetlinkConstants.MessageHeaderSize)
            {
                throw new NetlinkFormatException("netlink error message is missing the original header");
            }

            var original = Payload.Slice(4, NetlinkConstants.MessageHeaderSize);
            originalSequence = MemoryMarshal.Read<uint>(original[8..]);
            var originalLength = MemoryMarshal.Read<uint>(original);
            var tlvStart = 4 + NetlinkConstants.MessageHeaderSize;
            if ((Flags & NetlinkConstants.NLM_F_CAPPED) == 0 && code != 0)
            {
                // Without NETLINK_CAP_ACK an error echoes the whole request before the TLVs.
                if (originalLength < NetlinkConstants.MessageHeaderSize || originalLength > (uint)(Payload.Length - 4))
                {
                    throw new NetlinkFormatException($"netlink error echoes a request of {originalLength} bytes that is not there");
                }

                tlvStart = Math.Min(Payload.Length, 4 + NetlinkConstants.Align((int)originalLength));
            }

            if ((Flags & NetlinkConstants.NLM_F_ACK_TLVS) != 0)
            {
                if (tlvStart > Payload.Length)
                {
                    throw new NetlinkFormatException("netlink error message is shorter than the request it echoes");
                }

                tlvs = Payload[tlvStart..];
            }
        }
        else if ((Flags & NetlinkConstants.NLM_F_ACK_TLVS) != 0)
        {
            tlvs = Payload[4..];
        }

        string? text = null;
        uint? offset = null;
        uint? missing = null;
        var reader = new NetlinkAttributeReader(tlvs);
        while (reader.TryRead(out var tlv))
        {
            switch (tlv.Type)
            {
                case NetlinkConstants.NLMSGERR_ATTR_MSG:
                    text = tlv.GetString();
                    break;
                case NetlinkConstants.NLMSGERR_ATTR_OFFS:
                    offset = tlv.GetU32();
                    break;
                case NetlinkConstants.NLMSGERR_ATTR_MISS_TYPE:
                    missing = tlv.GetU32();
                    break;
            }
        }

        return new NetlinkError(-code, originalSequence ?? Sequence, text, offset, missing);
    }
}
