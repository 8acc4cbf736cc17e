using System.Buffers.Binary;
using System.Net;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Encoding;

/// <summary>
/// Our encoder against bytes the real nft (1.0.6, libnftnl) sent to the kernel. How they were
/// captured: inside a scratch netns (`ip netns add fwl-oracle...`), `nft -f render.nft` where
/// render.nft is <see cref="NftTransaction.Render"/> of the full structure, and `nft add element
/// inet fwmark pods4-mark-00000010-00000010 '{ 10.88.0.5 comment "abc" }'` / `nft delete
/// element ... '{ 10.88.0.5 }'`, each run under `strace -e trace=sendmsg -e write=3`, whose hex
/// dump of the batch was split into messages (`nft --debug=mnl` shows the same layout). The
/// sequence numbers below are nft's.
///
/// Deliberate differences, applied to the captures and nothing else:
/// - flags: nft asks for no per-message ACK and sends NEWTABLE without NLM_F_CREATE; we set
///   NLM_F_ACK everywhere (to confirm each message), NLM_F_CREATE on NEWTABLE and NLM_F_EXCL on
///   NEWSETELEM. <see cref="WithFlags"/> patches only those two bytes.
/// - NEWSET: nft appends NFTA_SET_USERDATA (byte-order hints for its own printer; removed,
///   nlmsg_len 132→120) and numbers NFTA_SET_ID from 1, we use the sequence number (1→2).
/// - lookup: nft also sends NFTA_LOOKUP_SET_ID; we refer to the set by name only (8 bytes
///   removed, the enclosing lengths reduced by 8: 376→368).
/// - NEWSETELEM: nft also sends NFTA_SET_ELEM_LIST_SET_ID (8 bytes removed, 108→100).
/// The set/lookup/element captures are from the plain-set layout (nft 1.0.6, re-captured the same way).
/// </summary>
public class NftOracleBytesTests
{
    private static readonly NftTable Table = FwmarkRuleset.Table;
    private static readonly MarkSpec Mark = new("vpn", 0x10, 0x10);

    private const ushort Request = NetlinkConstants.NLM_F_REQUEST;
    private const ushort Ack = NetlinkConstants.NLM_F_ACK;
    private const ushort Create = NetlinkConstants.NLM_F_CREATE;

    [Fact]
    public void Batch_delimiters_match_nft()
    {
        var writer = new NetlinkWriter();
        NftMessage.WriteBatchDelimiter(ref writer, NfNetlink.BatchBegin, 0);
        NftMessage.WriteBatchDelimiter(ref writer, NfNetlink.BatchEnd, 10);
        Assert.Equal(
            "140000001000010000000000000000000000000a" + "14000000110001000a000000000000000000000a",
            Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void New_table_matches_nft()
    {
        var oracle = "28000000000a01000100000000000000010000000b00010066776d61726b00000800020000000000";
        AssertEncodes(WithFlags(oracle, Request | Ack | Create), new AddTableOp(), 1);
    }

    [Fact]
    public void New_base_chain_matches_nft()
    {
        var oracle =
            "58000000030a01040400000000000000010000000b00010066776d61726b0000" +
            "0f000300707265726f7574696e6700000b00070066696c746572000008000500" +
            "0000000114000480080001000000000008000200ffffff6a";
        AssertEncodes(WithFlags(oracle, Request | Ack | Create), new AddChainOp(FwmarkRuleset.Prerouting), 4);
    }

    [Fact]
    public void New_mark_chain_matches_nft()
    {
        var oracle =
            "3c000000030a01040500000000000000010000000b00010066776d61726b0000" +
            "1b0003006d61726b2d30303030303031302d30303030303031300000";
        AssertEncodes(WithFlags(oracle, Request | Ack | Create), new AddChainOp(FwmarkRuleset.MarkChain(Mark)), 5);
    }

    [Fact]
    public void New_address_set_matches_nft_without_its_printer_hints()
    {
        // Captured from `add set inet fwmark pods4-mark-00000010-00000010 { type ipv4_addr; counter; }`:
        // the counter template is one NFTA_SET_EXPR (type 17, nested) holding "counter" and empty data.
        var edited =
            "78000000090a01040200000000000000010000000b00010066776d61726b0000" +
            "21000200706f6473342d6d61726b2d30303030303031302d3030303030303130" +
            "0000000008000300000000000800040000000007080005000000000408000a00" +
            "00000002" + "140011800c000100636f756e7465720004000280";
        AssertEncodes(WithFlags(edited, Request | Ack | Create), new AddSetOp(FwmarkRuleset.Set4(Mark.ChainName)), 2);
    }

    [Fact]
    public void Ct_reply_return_rule_matches_nft()
    {
        var oracle =
            "f4000000060a010c0600000000000000010000000b00010066776d61726b0000" +
            "0f000200707265726f7574696e67000080000480200001800700010063740000" +
            "14000280080002000000000108000100000000012c00018008000100636d7000" +
            "20000280080001000000000108000200000000000c0003800500010001000000" +
            "300001800e000100696d6d6564696174650000001c0002800800010000000000" +
            "100002800c00028008000100fffffffb42000700003c7265706c696573206f66" +
            "20636f6e6e656374696f6e73206f70656e656420746f2074686520706f64206b" +
            "65657020746865206d61696e2070617468000000";
        AssertEncodes(WithFlags(oracle, 0x0c00 | Request | Ack), new AddRuleOp(FwmarkRuleset.ReplyReturn), 6);
    }

    [Fact]
    public void Ipv4_set_lookup_goto_rule_matches_nft_without_the_set_id()
    {
        var edited =
            "70010000060a010c0700000000000000010000000b00010066776d61726b0000" +
            "0f000200707265726f7574696e6700001401048024000180090001006d657461" +
            "0000000014000280080002000000000f08000100000000012c00018008000100" +
            "636d700020000280080001000000000108000200000000000c00038005000100" +
            "02000000340001800c0001007061796c6f616400240002800800010000000001" +
            "0800020000000001080003000000000c0800040000000004400001800b000100" +
            "6c6f6f6b7570000030000280080002000000000121000100706f6473342d6d61" +
            "726b2d30303030303031302d3030303030303130000000004c0001800e000100" +
            "696d6d6564696174650000003800028008000100000000002c00028028000280" +
            "08000100fffffffc1b0002006d61726b2d30303030303031302d303030303030" +
            "313000002a00070000244950763420706f6473206f66206d61726b2d30303030" +
            "303031302d3030303030303130000000";
        AssertEncodes(WithFlags(edited, 0x0c00 | Request | Ack), new AddRuleOp(FwmarkRuleset.PreroutingRules([Mark.ChainName])[2]), 7);
    }

    [Fact]
    public void Mark_rule_matches_nft()
    {
        var oracle =
            "18010000060a010c0900000000000000010000000b00010066776d61726b0000" +
            "1b0002006d61726b2d30303030303031302d30303030303031300000ac000480" +
            "24000180090001006d6574610000000014000280080002000000000308000100" +
            "000000014c0001800c00010062697477697365003c0002800800010000000001" +
            "0800020000000001080006000000000008000300000000040c00048008000100" +
            "efffffff0c000580080001001000000024000180090001006d65746100000000" +
            "1400028008000200000000030800030000000001140001800c000100636f756e" +
            "746572000400028030000700002a736574206d61726b20307830303030303031" +
            "3020756e646572206d61736b203078303030303030313000";
        AssertEncodes(WithFlags(oracle, 0x0c00 | Request | Ack), new AddRuleOp(FwmarkRuleset.MarkRules(Mark)[0]), 9);
    }

    [Fact]
    public void New_element_with_comment_matches_nft_without_the_set_id()
    {
        var edited =
            "640000000c0a01040100000000000000010000000b00010066776d61726b0000" +
            "21000200706f6473342d6d61726b2d30303030303031302d3030303030303130" +
            "00000000200003801c0001800c000180080001000a5800050a00060000046162" +
            "63000000";
        var element = new NftElement(FwmarkRuleset.Set4(Mark.ChainName).Name, IPAddress.Parse("10.88.0.5"), "abc");
        AssertEncodes(WithFlags(edited, Request | Ack | Create | NetlinkConstants.NLM_F_EXCL), new AddElementOp(element), 1);
    }

    [Fact]
    public void Delete_element_matches_nft()
    {
        var oracle =
            "580000000e0a01000100000000000000010000000b00010066776d61726b0000" +
            "21000200706f6473342d6d61726b2d30303030303031302d3030303030303130" +
            "0000000014000380100001800c000180080001000a580005";
        var element = new NftElement(FwmarkRuleset.Set4(Mark.ChainName).Name, IPAddress.Parse("10.88.0.5"), "ignored on delete");
        AssertEncodes(WithFlags(oracle, Request | Ack), new DeleteElementOp(element), 1);
    }

    [Fact]
    public void Single_element_get_carries_the_key_and_no_dump_flag()
    {
        // nft's `get element` sends the same attributes (SET before TABLE, flags REQUEST|ACK);
        // the kernel does not care about attribute order, we keep TABLE first like every other message.
        var writer = new NetlinkWriter();
        NftElementCodec.Write(ref writer, NftMessageType.GetSetElem, Request | Ack, 1, Table, new NftElement(FwmarkRuleset.Set4(Mark.ChainName).Name, IPAddress.Parse("10.88.0.5")));
        Assert.Equal(
            "580000000d0a05000100000000000000010000000b00010066776d61726b0000" +
            "21000200706f6473342d6d61726b2d30303030303031302d3030303030303130" +
            "0000000014000380100001800c000180080001000a580005",
            Hex.Format(writer.WrittenSpan));
    }

    private static void AssertEncodes(byte[] expected, NftOperation operation, uint sequence)
    {
        var writer = new NetlinkWriter();
        operation.Encode(ref writer, Table, sequence);
        Assert.Equal(Hex.Format(expected), Hex.Format(writer.WrittenSpan));
    }

    private static byte[] WithFlags(string hex, int flags)
    {
        var bytes = Hex.Parse(hex);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)flags);
        return bytes;
    }
}
