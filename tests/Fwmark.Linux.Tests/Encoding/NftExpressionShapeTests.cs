using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Encoding;

/// <summary>The canonical form drift detection compares: operands count, volatile and default values do not.</summary>
public class NftExpressionShapeTests
{
    [Fact]
    public void Every_operand_is_part_of_the_shape()
    {
        var mark = NftExpressionShape.Of(new BitwiseMaskXor(Register.R1, Register.R1, ~0x10u, 0x10));

        Assert.Equal("bitwise(sreg=00000001 dreg=00000001 len=00000004 mask={value=efffffff} xor={value=10000000} op=00000000)", mark.ToString());
        Assert.Equal(mark, NftExpressionShape.Of(new BitwiseMaskXor(Register.R1, Register.R1, ~0x10u, 0x10)));
        Assert.NotEqual(mark, NftExpressionShape.Of(new BitwiseMaskXor(Register.R1, Register.R1, ~0x10u, 0x20)));
        Assert.NotEqual(NftExpressionShape.Of(new CmpEq(Register.R1, [1])), NftExpressionShape.Of(new CmpEq(Register.R1, [0])));
        Assert.NotEqual(NftExpressionShape.Of(new ImmediateVerdict(Verdict.Goto, "a")), NftExpressionShape.Of(new ImmediateVerdict(Verdict.Goto, "b")));
        Assert.NotEqual(NftExpressionShape.Of(new MetaLoad(MetaAttr.KeyMark, Register.R1)), NftExpressionShape.Of(new MetaSet(MetaAttr.KeyMark, Register.R1)));
    }

    [Fact]
    public void Lookup_flags_count_only_when_they_are_not_the_kernels_default()
    {
        Assert.Equal(Lookup(flags: null), Lookup(flags: 0));
        Assert.NotEqual(Lookup(flags: null), Lookup(flags: 1)); // NFT_LOOKUP_F_INV: "!= @set"
    }

    [Fact]
    public void Counter_values_change_with_traffic_and_are_not_compared()
    {
        var writer = new Fwmark.Linux.Netlink.NetlinkWriter();
        var element = writer.BeginNested(ListAttr.Elem);
        writer.WriteString(ExprAttr.Name, "counter");
        var data = writer.BeginNested(ExprAttr.Data);
        writer.WriteBigEndianU64(1, 12345);
        writer.WriteBigEndianU64(2, 678);
        writer.EndNested(data);
        writer.EndNested(element);

        Assert.Equal(NftExpressionShape.Of(new Counter()), Read(writer.WrittenSpan));
    }

    /// <summary>A lookup as the kernel may dump it: with or without NFTA_LOOKUP_FLAGS.</summary>
    private static NftExpressionShape Lookup(uint? flags)
    {
        var writer = new Fwmark.Linux.Netlink.NetlinkWriter();
        var element = writer.BeginNested(ListAttr.Elem);
        writer.WriteString(ExprAttr.Name, "lookup");
        var data = writer.BeginNested(ExprAttr.Data);
        writer.WriteString(LookupAttr.Set, "pods4-x");
        writer.WriteBigEndianU32(LookupAttr.Sreg, Register.R1);
        if (flags is { } value)
        {
            writer.WriteBigEndianU32(LookupAttr.Flags, value);
        }

        writer.EndNested(data);
        writer.EndNested(element);
        return Read(writer.WrittenSpan);
    }

    private static NftExpressionShape Read(ReadOnlySpan<byte> bytes)
    {
        var reader = new Fwmark.Linux.Netlink.NetlinkAttributeReader(bytes);
        Assert.True(reader.TryRead(out var element));
        return NftExpressionShape.Read(element.GetNested());
    }
}
