namespace Fwmark.Linux.NfTables;

/// <summary>enum nf_tables_msg_types; on the wire the type is (NFNL_SUBSYS_NFTABLES &lt;&lt; 8) | value.</summary>
internal enum NftMessageType : ushort
{
    NewTable = 0,
    GetTable = 1,
    DelTable = 2,
    NewChain = 3,
    GetChain = 4,
    DelChain = 5,
    NewRule = 6,
    GetRule = 7,
    DelRule = 8,
    NewSet = 9,
    GetSet = 10,
    DelSet = 11,
    NewSetElem = 12,
    GetSetElem = 13,
    DelSetElem = 14,
    NewGen = 15,
    GetGen = 16,
}
