using System.Buffers.Binary;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>Starts nf_tables messages: nlmsghdr with the nftables subsystem type, then struct nfgenmsg.</summary>
internal static class NftMessage
{
    public static NetlinkWriter.MessageToken Begin(ref NetlinkWriter writer, NftMessageType type, ushort flags, uint sequence, byte family)
    {
        var token = writer.BeginMessage(NfNetlink.MessageType(type), flags, sequence);
        WriteGenMsg(ref writer, family, resourceId: 0);
        return token;
    }

    /// <summary>
    /// NFNL_MSG_BATCH_BEGIN/END: family unspecified, res_id (big-endian) = the subsystem the batch
    /// is for. Not ACKed: the answers that matter are those of the messages inside.
    /// With <paramref name="generation"/> (BEGIN only) the kernel refuses the whole batch with
    /// ERESTART unless the ruleset is still at that generation (NFNL_BATCH_GENID).
    /// </summary>
    public static void WriteBatchDelimiter(ref NetlinkWriter writer, ushort type, uint sequence, uint? generation = null)
    {
        var token = writer.BeginMessage(type, NetlinkConstants.NLM_F_REQUEST, sequence);
        WriteGenMsg(ref writer, NfNetlink.FamilyUnspec, NfNetlink.SubsysNfTables);
        if (generation is { } id)
        {
            writer.WriteBigEndianU32(NfNetlink.BatchGenerationId, id);
        }

        writer.EndMessage(token);
    }

    private static void WriteGenMsg(ref NetlinkWriter writer, byte family, ushort resourceId)
    {
        var header = writer.ReserveHeader(NfNetlink.GenMsgSize);
        header[0] = family;
        header[1] = NfNetlink.Version0;
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], resourceId);
    }
}
