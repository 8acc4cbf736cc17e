using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Tests.Encoding;

public class NetlinkWriterTests
{
    [Fact]
    public void Message_length_is_back_patched_and_header_is_host_order()
    {
        var writer = new NetlinkWriter(16);
        var message = writer.BeginMessage(type: 0x0a10, flags: 0x0405, sequence: 7, portId: 9);
        writer.WriteU32(1, 0x11223344);
        writer.EndMessage(message);

        Assert.Equal(
            "18000000" + "100a" + "0504" + "07000000" + "09000000" // nlmsghdr, len 24
            + "0800" + "0100" + "44332211",                        // u32 attribute in host order
            Hex.Format(writer.WrittenSpan));
    }

    [Theory]
    [InlineData("", "0500010000000000")]          // "" → NUL only: len 5, padded to 8
    [InlineData("ab", "0700010061620000")]        // len 7, one pad byte
    [InlineData("abc", "0800010061626300")]       // len 8, no padding
    [InlineData("abcd", "090001006162636400000000")] // len 9, three pad bytes
    public void Strings_are_nul_terminated_and_padded_to_four_bytes(string text, string expected)
    {
        var writer = new NetlinkWriter();
        writer.WriteString(1, text);
        Assert.Equal(expected, Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void Nested_attributes_back_patch_their_length_including_padded_children()
    {
        var writer = new NetlinkWriter();
        var outer = writer.BeginNested(3);
        writer.WriteU8(1, 0xff);
        var inner = writer.BeginNested(2);
        writer.WriteBigEndianU32(1, 1);
        writer.EndNested(inner);
        writer.EndNested(outer);

        Assert.Equal(
            "1800" + "0380"                      // outer: len 24, type 3 | NLA_F_NESTED
            + "0500" + "0100" + "ff000000"       // u8: len 5, padded to 8
            + "0c00" + "0280"                    // inner: len 12
            + "0800" + "0100" + "00000001",      // be32
            Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void An_empty_nest_is_just_its_header()
    {
        var writer = new NetlinkWriter();
        writer.EndNested(writer.BeginNested(2));
        Assert.Equal("04000280", Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void Big_endian_writers_put_the_most_significant_byte_first()
    {
        var writer = new NetlinkWriter();
        writer.WriteBigEndianU16(1, 0x0102);
        writer.WriteBigEndianU64(2, 0x0102030405060708);
        writer.WriteU16(3, 0x0102);
        writer.WriteFlag(4);
        Assert.Equal(
            "06000100" + "01020000"
            + "0c000200" + "0102030405060708"
            + "06000300" + "02010000"
            + "04000400",
            Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void Reserved_family_header_is_zeroed_padded_and_writable()
    {
        var writer = new NetlinkWriter();
        var message = writer.BeginMessage(0x10, 1, 0);
        var header = writer.ReserveHeader(5);
        header[0] = 0xaa;
        header[4] = 0xbb;
        writer.EndMessage(message);
        Assert.Equal("18000000100001000000000000000000" + "aa000000bb000000", Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void Growing_past_the_initial_capacity_keeps_earlier_bytes()
    {
        var writer = new NetlinkWriter(64);
        var message = writer.BeginMessage(0x10, 1, 0);
        for (uint i = 0; i < 1000; i++)
        {
            writer.WriteU32(1, i);
        }

        writer.EndMessage(message);
        Assert.Equal(16 + 1000 * 8, writer.Length);
        var reader = new NetlinkMessageReader(writer.WrittenSpan);
        Assert.True(reader.TryRead(out var read));
        var attributes = read.Attributes(0);
        for (uint i = 0; i < 1000; i++)
        {
            Assert.True(attributes.TryRead(out var attribute));
            Assert.Equal(i, attribute.GetU32());
        }

        Assert.False(attributes.TryRead(out _));
    }

    [Fact]
    public void An_attribute_longer_than_nla_len_can_express_is_refused()
    {
        var writer = new NetlinkWriter();
        var error = Assert.Throws<NetlinkFormatException>(() =>
        {
            var w = new NetlinkWriter();
            w.WriteAttribute(1, new byte[ushort.MaxValue]);
        });
        Assert.Contains("exceeds", error.Message);

        Assert.Throws<NetlinkFormatException>(() =>
        {
            var w = new NetlinkWriter();
            var nest = w.BeginNested(1);
            for (var i = 0; i < 40; i++)
            {
                w.WriteAttribute(2, new byte[2000]);
            }

            w.EndNested(nest);
        });
        Assert.Equal(0, writer.Length);
    }
}
