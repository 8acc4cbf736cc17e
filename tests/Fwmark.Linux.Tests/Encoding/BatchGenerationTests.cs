using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Encoding;

public class BatchGenerationTests
{
    [Fact]
    public void Batch_begin_carries_the_generation_as_a_big_endian_genid_attribute()
    {
        var writer = new NetlinkWriter();
        NftMessage.WriteBatchDelimiter(ref writer, NfNetlink.BatchBegin, 7, generation: 0x01020304);

        // nlmsghdr (len 28, type 0x10, flags REQUEST, seq 7), nfgenmsg (res_id be16 10), then
        // NFNL_BATCH_GENID: len 8, type 1, value be32.
        Assert.Equal(
            "1c000000100001000700000000000000" + "0000000a" + "08000100" + "01020304",
            Hex.Format(writer.WrittenSpan));
    }
}
