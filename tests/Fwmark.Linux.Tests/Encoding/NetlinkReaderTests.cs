using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Tests.Encoding;

public class NetlinkReaderTests
{
    private static readonly byte[] TwoMessages = Hex.Parse(
        "18000000 100a 0500 07000000 09000000  0800 0100 44332211" +
        "14000000 0300 0200 08000000 09000000  00000000");

    [Fact]
    public void Reads_consecutive_messages_and_their_fields()
    {
        var reader = new NetlinkMessageReader(TwoMessages);
        Assert.True(reader.TryRead(out var first));
        Assert.Equal((ushort)0x0a10, first.Type);
        Assert.Equal((ushort)0x0005, first.Flags);
        Assert.Equal(7u, first.Sequence);
        Assert.Equal(9u, first.PortId);
        Assert.Equal(8, first.Payload.Length);
        Assert.True(reader.TryRead(out var second));
        Assert.True(second.IsDone);
        Assert.True(second.ReadError().IsAck);
        Assert.False(reader.TryRead(out _));
    }

    [Theory]
    [InlineData("0f000000 1000 0000 00000000 000000", "truncated netlink header")]          // 15 bytes
    [InlineData("0c000000 1000 0000 00000000 00000000", "does not fit")]                    // nlmsg_len 12 < header
    [InlineData("20000000 1000 0000 00000000 00000000 0000", "does not fit")]               // claims 32, has 18
    [InlineData("ffffffff 1000 0000 00000000 00000000", "does not fit")]                    // absurd length
    public void Broken_message_lengths_are_rejected(string hex, string reason)
    {
        var bytes = Hex.Parse(hex);
        var error = Assert.Throws<NetlinkFormatException>(() =>
        {
            var reader = new NetlinkMessageReader(bytes);
            while (reader.TryRead(out _))
            {
            }
        });
        Assert.Contains(reason, error.Message);
    }

    [Theory]
    [InlineData("0800", "truncated attribute header")]
    [InlineData("0300 0100", "does not fit")]          // nla_len below the header size
    [InlineData("0900 0100 01020304", "does not fit")] // claims 9 bytes, has 8
    [InlineData("0800 0100 01020304 0c00", "truncated attribute header")]
    public void Broken_attribute_lengths_are_rejected(string hex, string reason)
    {
        var bytes = Hex.Parse(hex);
        var error = Assert.Throws<NetlinkFormatException>(() =>
        {
            var reader = new NetlinkAttributeReader(bytes);
            while (reader.TryRead(out _))
            {
            }
        });
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void The_last_attribute_may_omit_its_padding()
    {
        var reader = new NetlinkAttributeReader(Hex.Parse("0500 0100 2a"));
        Assert.True(reader.TryRead(out var attribute));
        Assert.Equal(0x2a, attribute.GetU8());
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void Typed_getters_insist_on_the_exact_size()
    {
        var bytes = Hex.Parse("0600 0100 0102 0000");
        var error = Assert.Throws<NetlinkFormatException>(() =>
        {
            var reader = new NetlinkAttributeReader(bytes);
            reader.TryRead(out var attribute);
            attribute.GetU32();
        });
        Assert.Contains("expected 4", error.Message);
    }

    [Fact]
    public void Nested_flag_is_reported_and_masked_out_of_the_type()
    {
        var reader = new NetlinkAttributeReader(Hex.Parse("0c00 0380 0800 0100 00000001"));
        Assert.True(reader.TryRead(out var nest));
        Assert.Equal(3, nest.Type);
        Assert.True(nest.IsNested);
        Assert.True(nest.GetNested().TryFind(1, out var child));
        Assert.Equal(1u, child.GetBigEndianU32());
    }

    [Fact]
    public void Capped_error_with_extended_ack_is_decoded()
    {
        // NLMSG_ERROR, flags CAPPED|ACK_TLVS: error -17, original header (seq 0x2a), then
        // NLMSGERR_ATTR_MSG "bad" and NLMSGERR_ATTR_OFFS 48.
        var bytes = Hex.Parse(
            "34000000 0200 0003 2a000000 05000000" +
            "efffffff" +
            "40000000 0c0a 0506 2a000000 00000000" +
            "0800 0100 62616400" +
            "0800 0200 30000000");
        var reader = new NetlinkMessageReader(bytes);
        Assert.True(reader.TryRead(out var message));
        Assert.True(message.IsError);
        var error = message.ReadError();
        Assert.Equal(17, error.Errno);
        Assert.Equal(0x2au, error.Sequence);
        Assert.Equal("bad", error.Message);
        Assert.Equal(48u, error.BadAttributeOffset);
        Assert.False(error.IsAck);
    }

    [Fact]
    public void Uncapped_error_skips_the_echoed_request_before_the_tlvs()
    {
        var bytes = Hex.Parse(
            "34000000 0200 0002 05000000 00000000" +
            "feffffff" +                                // -2 ENOENT
            "18000000 010a 0500 05000000 00000000" +    // echoed request header (len 24) ...
            "01000000 00000000" +                        // ... and its 8-byte body
            "0800 0100 6e6f7000");                       // "nop"
        var reader = new NetlinkMessageReader(bytes);
        Assert.True(reader.TryRead(out var message));
        var error = message.ReadError();
        Assert.Equal(2, error.Errno);
        Assert.Equal("nop", error.Message);
    }

    [Fact]
    public void Uncapped_error_claiming_a_longer_echo_than_present_is_rejected()
    {
        var bytes = Hex.Parse(
            "28000000 0200 0002 05000000 00000000" +
            "feffffff" +
            "00010000 010a 0500 05000000 00000000" +    // claims a 256-byte request
            "00000000");
        var error = Assert.Throws<NetlinkFormatException>(() =>
        {
            var reader = new NetlinkMessageReader(bytes);
            reader.TryRead(out var message);
            message.ReadError();
        });
        Assert.Contains("not there", error.Message);
    }

    [Fact]
    public void Every_truncation_and_random_corruption_fails_only_with_the_format_exception()
    {
        // A real nf_tables reply shape: NEWSETELEM with a nested element list and userdata.
        var valid = Hex.Parse(
            "64000000 0c0a 0200 01000000 00000000 01000000" +
            "0b00 0100 66776d61726b0000" +
            "0a00 0200 706f647334000000" +
            "3800 0380 3400 0180 0c00 0180 0800 0100 0a580005" +
            "1c00 0280 1800 0280 0800 0100 fffffffc 0900 0200 6d61726b00000000" +
            "0800 0600 00026100");
        WalkEverything(valid);
        var random = new Random(1234);
        var inputs = Enumerable.Range(0, valid.Length).Select(n => valid[..n]).ToList();
        for (var i = 0; i < 5000; i++)
        {
            var copy = (byte[])valid.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                copy[random.Next(copy.Length)] = (byte)random.Next(256);
            }

            inputs.Add(copy);
        }

        var outcomes = new Dictionary<string, int>();
        foreach (var input in inputs)
        {
            string outcome;
            try
            {
                WalkEverything(input);
                outcome = "ok";
            }
            catch (NetlinkFormatException)
            {
                outcome = "format";
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // Both outcomes must occur (the corpus really exercises the checks), and nothing else.
        Assert.Equal(["format", "ok"], outcomes.Keys.Order());
    }

    private static void WalkEverything(byte[] datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (message.IsError || message.IsDone)
            {
                message.ReadError();
                continue;
            }

            Walk(message.Attributes(4), depth: 0);
        }
    }

    private static void Walk(NetlinkAttributeReader reader, int depth)
    {
        while (reader.TryRead(out var attribute))
        {
            _ = attribute.GetString();
            if (attribute.Value.Length == 4)
            {
                _ = attribute.GetBigEndianU32();
            }

            if (depth < 6 && attribute.Value.Length >= 4)
            {
                try
                {
                    Walk(attribute.GetNested(), depth + 1);
                }
                catch (NetlinkFormatException) when (!attribute.IsNested)
                {
                    // A leaf value that does not parse as attributes is expected.
                }
            }
        }
    }
}
