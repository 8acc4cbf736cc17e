namespace Fwmark.Linux.NfTables;

// Per-expression attribute numbers (linux/netfilter/nf_tables.h), all values __be32.

internal static class MetaAttr
{
    public const ushort Dreg = 1;
    public const ushort Key = 2;
    public const ushort Sreg = 3;

    public const uint KeyMark = 3;
    public const uint KeyIifName = 6;
    public const uint KeyNfProto = 15;
}

internal static class CmpAttr
{
    public const ushort Sreg = 1;
    public const ushort Op = 2;
    public const ushort Data = 3;

    public const uint OpEq = 0;
}

internal static class PayloadAttr
{
    public const ushort Dreg = 1;
    public const ushort Base = 2;
    public const ushort Offset = 3;
    public const ushort Len = 4;

    public const uint BaseNetworkHeader = 1;
}

internal static class LookupAttr
{
    public const ushort Set = 1;
    public const ushort Sreg = 2;
    public const ushort Dreg = 3;
    public const ushort Flags = 5;
}

internal static class ImmediateAttr
{
    public const ushort Dreg = 1;
    public const ushort Data = 2;
}

internal static class BitwiseAttr
{
    public const ushort Sreg = 1;
    public const ushort Dreg = 2;
    public const ushort Len = 3;
    public const ushort Mask = 4;
    public const ushort Xor = 5;
    public const ushort Op = 6;
    public const ushort Data = 7;

    /// <summary>NFT_BITWISE_MASK_XOR (formerly NFT_BITWISE_BOOL): dreg = (sreg &amp; mask) ^ xor.</summary>
    public const uint OpMaskXor = 0;
}

internal static class CtAttr
{
    public const ushort Dreg = 1;
    public const ushort Key = 2;
    public const ushort Direction = 3;
    public const ushort Sreg = 4;

    public const uint KeyDirection = 1;
    public const uint KeyMark = 3;
}
