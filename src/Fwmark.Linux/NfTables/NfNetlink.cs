namespace Fwmark.Linux.NfTables;

/// <summary>nfnetlink framing (linux/netfilter/nfnetlink.h) and the families nf_tables knows.</summary>
internal static class NfNetlink
{
    /// <summary>sizeof(struct nfgenmsg): u8 family, u8 version, __be16 res_id.</summary>
    public const int GenMsgSize = 4;

    public const byte Version0 = 0;
    public const byte SubsysNfTables = 10;

    /// <summary>Batch delimiters live below the subsystem range; their res_id names the subsystem.</summary>
    public const ushort BatchBegin = 0x10;
    public const ushort BatchEnd = 0x11;

    /// <summary>NFNL_BATCH_GENID: __be32 attribute of BATCH_BEGIN, the generation the batch was planned on.</summary>
    public const ushort BatchGenerationId = 1;

    public const byte FamilyUnspec = 0;
    public const byte FamilyInet = 1;
    public const byte FamilyIPv4 = 2;
    public const byte FamilyBridge = 7;
    public const byte FamilyIPv6 = 10;

    public static ushort MessageType(NftMessageType type) => (ushort)((SubsysNfTables << 8) | (ushort)type);
}
