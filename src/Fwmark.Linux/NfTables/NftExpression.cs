using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// One nf_tables expression of a rule: its kernel name plus the attributes inside NFTA_EXPR_DATA.
/// Numeric attributes are __be32; register contents (cmp data, bitwise mask/xor) are raw bytes.
/// </summary>
internal abstract record NftExpression(string Name)
{
    public void Write(ref NetlinkWriter writer)
    {
        var element = writer.BeginNested(ListAttr.Elem);
        writer.WriteString(ExprAttr.Name, Name);
        var data = writer.BeginNested(ExprAttr.Data);
        WriteData(ref writer);
        writer.EndNested(data);
        writer.EndNested(element);
    }

    protected abstract void WriteData(ref NetlinkWriter writer);

    /// <summary>Writes NFTA_DATA_VALUE inside the nest <paramref name="type"/>.</summary>
    protected static void WriteValue(ref NetlinkWriter writer, ushort type, ReadOnlySpan<byte> value)
    {
        var nest = writer.BeginNested(type);
        writer.WriteAttribute(DataAttr.Value, value);
        writer.EndNested(nest);
    }

    /// <summary>A 32-bit register value in host order, as meta mark keeps it.</summary>
    protected static byte[] HostU32(uint value)
    {
        var bytes = new byte[4];
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in value);
        return bytes;
    }
}

/// <summary>[ meta load KEY => reg DREG ].</summary>
internal sealed record MetaLoad(uint Key, uint Dreg) : NftExpression("meta")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(MetaAttr.Key, Key);
        writer.WriteBigEndianU32(MetaAttr.Dreg, Dreg);
    }
}

/// <summary>[ meta set KEY with reg SREG ].</summary>
internal sealed record MetaSet(uint Key, uint Sreg) : NftExpression("meta")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(MetaAttr.Key, Key);
        writer.WriteBigEndianU32(MetaAttr.Sreg, Sreg);
    }
}

/// <summary>[ ct load KEY => reg DREG ]; breaks (stops the rule) for packets without conntrack.</summary>
internal sealed record CtLoad(uint Key, uint Dreg) : NftExpression("ct")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(CtAttr.Key, Key);
        writer.WriteBigEndianU32(CtAttr.Dreg, Dreg);
    }
}

/// <summary>[ ct set KEY with reg SREG ]: a ct expression with a source register writes the key.</summary>
internal sealed record CtSet(uint Key, uint Sreg) : NftExpression("ct")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(CtAttr.Key, Key);
        writer.WriteBigEndianU32(CtAttr.Sreg, Sreg);
    }
}

/// <summary>[ cmp eq reg SREG DATA ].</summary>
internal sealed record CmpEq(uint Sreg, byte[] Data) : NftExpression("cmp")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(CmpAttr.Sreg, Sreg);
        writer.WriteBigEndianU32(CmpAttr.Op, CmpAttr.OpEq);
        WriteValue(ref writer, CmpAttr.Data, Data);
    }
}

/// <summary>[ payload load LEN b @ network header + OFFSET => reg DREG ].</summary>
internal sealed record PayloadLoad(uint Offset, uint Length, uint Dreg) : NftExpression("payload")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(PayloadAttr.Dreg, Dreg);
        writer.WriteBigEndianU32(PayloadAttr.Base, PayloadAttr.BaseNetworkHeader);
        writer.WriteBigEndianU32(PayloadAttr.Offset, Offset);
        writer.WriteBigEndianU32(PayloadAttr.Len, Length);
    }
}

/// <summary>
/// [ lookup reg SREG set SET ]: membership in a plain set (no dreg), which ends the rule when the
/// key is not in the set.
/// </summary>
internal sealed record Lookup(string Set, uint Sreg) : NftExpression("lookup")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(LookupAttr.Sreg, Sreg);
        writer.WriteString(LookupAttr.Set, Set);
    }
}

/// <summary>[ immediate reg 0 VERDICT ], with <see cref="Chain"/> for goto/jump.</summary>
internal sealed record ImmediateVerdict(uint Code, string? Chain = null) : NftExpression("immediate")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(ImmediateAttr.Dreg, Register.Verdict);
        var data = writer.BeginNested(ImmediateAttr.Data);
        var verdict = writer.BeginNested(DataAttr.Verdict);
        writer.WriteBigEndianU32(VerdictAttr.Code, Code);
        if (Chain is not null)
        {
            writer.WriteString(VerdictAttr.Chain, Chain);
        }

        writer.EndNested(verdict);
        writer.EndNested(data);
    }
}

/// <summary>[ bitwise reg DREG = ( reg SREG &amp; MASK ) ^ XOR ] on a host-order u32 (the mark).</summary>
internal sealed record BitwiseMaskXor(uint Sreg, uint Dreg, uint Mask, uint Xor) : NftExpression("bitwise")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(BitwiseAttr.Sreg, Sreg);
        writer.WriteBigEndianU32(BitwiseAttr.Dreg, Dreg);
        writer.WriteBigEndianU32(BitwiseAttr.Op, BitwiseAttr.OpMaskXor);
        writer.WriteBigEndianU32(BitwiseAttr.Len, 4);
        WriteValue(ref writer, BitwiseAttr.Mask, HostU32(Mask));
        WriteValue(ref writer, BitwiseAttr.Xor, HostU32(Xor));
    }
}

/// <summary>[ counter ]: packet and byte counts, read back by `nft list` and STATUS.</summary>
internal sealed record Counter() : NftExpression("counter")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
    }
}
