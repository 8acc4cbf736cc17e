using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Encoding;

public class NftUserDataTests
{
    [Fact]
    public void Comment_is_a_type_zero_tlv_whose_length_counts_the_nul()
    {
        Assert.Equal("0004616263 00".Replace(" ", ""), Hex.Format(NftUserData.Comment("abc")));
    }

    [Fact]
    public void Comment_is_found_after_other_tlvs_and_survives_a_round_trip()
    {
        var blob = Hex.Parse("0104 00000000").Concat(NftUserData.Comment("owner tag ü")).ToArray();
        Assert.Equal("owner tag ü", NftUserData.ReadComment(blob));
    }

    [Theory]
    [InlineData("")]                 // nothing
    [InlineData("00")]               // header cut
    [InlineData("0009 616263 00")]   // length beyond the blob
    [InlineData("0104 00000000")]    // no comment TLV
    public void Malformed_or_comment_less_userdata_reads_as_no_comment(string hex)
    {
        Assert.Null(NftUserData.ReadComment(Hex.Parse(hex)));
    }

    [Fact]
    public void Comments_longer_than_nft_allows_are_refused()
    {
        Assert.Equal(130, NftUserData.Comment(new string('x', 127)).Length);
        Assert.Throws<ArgumentException>(() => NftUserData.Comment(new string('x', 128)));
    }
}
