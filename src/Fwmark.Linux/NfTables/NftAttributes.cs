namespace Fwmark.Linux.NfTables;

// Attribute numbers from linux/netfilter/nf_tables.h. Integer attributes of nf_tables objects are
// big-endian (__be32/__be64) on the wire; only register contents (NFTA_DATA_VALUE) are raw bytes
// in whatever order the expression that reads them uses.

internal static class TableAttr
{
    public const ushort Name = 1;
    public const ushort Flags = 2;

    /// <summary>NFT_TABLE_F_DORMANT: no chain of the table is hooked in, so no packet sees it.</summary>
    public const uint FlagDormant = 1;
}

internal static class ChainAttr
{
    public const ushort Table = 1;
    public const ushort Handle = 2;
    public const ushort Name = 3;
    public const ushort Hook = 4;
    public const ushort Policy = 5;
    public const ushort Type = 7;
    public const ushort Flags = 10;

    /// <summary>NFT_CHAIN_BASE: the kernel reports it on every chain that has a hook.</summary>
    public const uint FlagBase = 1;
}

internal static class HookAttr
{
    public const ushort Num = 1;
    public const ushort Priority = 2;
}

internal static class RuleAttr
{
    public const ushort Table = 1;
    public const ushort Chain = 2;
    public const ushort Handle = 3;
    public const ushort Expressions = 4;
    public const ushort UserData = 7;
}

internal static class ListAttr
{
    public const ushort Elem = 1;
}

internal static class ExprAttr
{
    public const ushort Name = 1;
    public const ushort Data = 2;
}

internal static class SetAttr
{
    public const ushort Table = 1;
    public const ushort Name = 2;
    public const ushort Flags = 3;
    public const ushort KeyType = 4;
    public const ushort KeyLen = 5;
    public const ushort DataType = 6;
    public const ushort Id = 10;
    public const ushort UserData = 13;

    /// <summary>NFTA_SET_EXPR: the one expression (a template) every element gets, e.g. a counter.</summary>
    public const ushort Expr = 17;

    /// <summary>NFTA_SET_EXPRESSIONS: a list of them (the kernel reports two or more this way).</summary>
    public const ushort Expressions = 18;
}

internal static class SetElemListAttr
{
    public const ushort Table = 1;
    public const ushort Set = 2;
    public const ushort Elements = 3;
}

internal static class SetElemAttr
{
    public const ushort Key = 1;
    public const ushort Data = 2;
    public const ushort UserData = 6;

    /// <summary>NFTA_SET_ELEM_EXPR: the element's one stateful expression (its counter).</summary>
    public const ushort Expr = 7;

    /// <summary>NFTA_SET_ELEM_EXPRESSIONS: a list of them, when the set has two or more.</summary>
    public const ushort Expressions = 11;
}

/// <summary>enum nft_counter_attributes: both __be64.</summary>
internal static class CounterAttr
{
    public const ushort Bytes = 1;
    public const ushort Packets = 2;
}

internal static class DataAttr
{
    public const ushort Value = 1;
    public const ushort Verdict = 2;
}

internal static class VerdictAttr
{
    public const ushort Code = 1;
    public const ushort Chain = 2;
}

internal static class GenAttr
{
    public const ushort Id = 1;
}

/// <summary>Verdict codes as the kernel stores them (negative NFT_* values and NF_ACCEPT).</summary>
internal static class Verdict
{
    public const uint Accept = 1;
    public const uint Continue = unchecked((uint)-1);
    public const uint Jump = unchecked((uint)-3);
    public const uint Goto = unchecked((uint)-4);
    public const uint Return = unchecked((uint)-5);
}

/// <summary>Hook numbers of the inet/ip/ip6 families (enum nf_inet_hooks).</summary>
internal static class InetHook
{
    public const uint Prerouting = 0;
}

/// <summary>Register numbers: 0 is the verdict register; 1 is the first 16-byte data register.</summary>
internal static class Register
{
    public const uint Verdict = 0;
    public const uint R1 = 1;
}
