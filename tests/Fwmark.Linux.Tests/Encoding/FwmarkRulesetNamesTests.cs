using Fwmark.Core;
using Fwmark.Core.Config;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Encoding;

/// <summary>The mark chains in use are read back from set names; only names we make count.</summary>
public class FwmarkRulesetNamesTests
{
    [Fact]
    public void Mark_chains_come_from_both_families_sorted_and_once()
    {
        var vpn = new MarkSpec("vpn", 0x10, 0x10);
        var gw = new MarkSpec("gw", 0x888, 0xfff) { Connmark = true };

        var chains = FwmarkRuleset.MarkChains(
            [FwmarkRuleset.Set6(gw.ChainName).Name, FwmarkRuleset.Set4(vpn.ChainName).Name, FwmarkRuleset.Set6(vpn.ChainName).Name, "pods4", "other"]);

        Assert.Equal(["mark-00000010-00000010", "mark-00000888-00000fff-connmark"], chains);
        Assert.Equal(["mark-00000010-00000010", "mark-00000020-00000020"], FwmarkRuleset.MarkChains(["pods4-mark-00000010-00000010"], "mark-00000020-00000020"));
    }

    [Fact]
    public void Connmark_true_in_the_config_names_its_own_chain()
    {
        var config = PluginConfigParser.Parse(System.Text.Json.Nodes.JsonNode.Parse("""{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16}}, "connmark": true}""")!.AsObject());

        Assert.Equal("mark-00000010-00000010-connmark", config.Marks["vpn"].ChainName);
    }

    [Theory]
    [InlineData("mark-00000010-00000010", 0x10u, 0x10u, false)]
    [InlineData("mark-00000888-00000fff-connmark", 0x888u, 0xfffu, true)]
    public void A_mark_chain_name_parses_back_to_its_mark(string chain, uint value, uint mask, bool connmark)
    {
        var mark = FwmarkRuleset.ParseMarkChain(chain);

        Assert.NotNull(mark);
        Assert.Equal((value, mask, connmark), (mark.Value, mark.Mask, mark.Connmark));
        Assert.Equal(chain, mark.ChainName);
    }

    [Theory]
    [InlineData("mark-10-10")]
    [InlineData("mark-00000010-00000010-other")]
    [InlineData("mark-00000011-00000010")] // value outside the mask
    [InlineData("mark-00000000-00000000")] // empty mask
    [InlineData("mark-0000001G-00000010")]
    [InlineData("prerouting")]
    public void Other_names_are_not_mark_chains(string chain) => Assert.Null(FwmarkRuleset.ParseMarkChain(chain));
}
