using System.Net;
using Fwmark.Core;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Encoding;

public class NftTransactionRenderTests
{
    [Fact]
    public void Transaction_renders_as_nft_script_in_queue_order()
    {
        var mark = new MarkSpec("vpn", 0x10, 0x10);
        var element = new NftElement("pods4", IPAddress.Parse("10.88.0.5"), mark.ChainName, "tag \"quoted\"");
        var transaction = new NftTransaction(FwmarkRuleset.Table)
            .Add(new AddTableOp())
            .Add(new AddMapOp(FwmarkRuleset.Pods6))
            .Add(new AddChainOp(FwmarkRuleset.Prerouting))
            .Add(new FlushChainOp("prerouting"))
            .Add(new AddRuleOp(FwmarkRuleset.MarkRules(mark)[0]))
            .Add(new DeleteElementOp(element))
            .Add(new AddElementOp(element));

        Assert.Equal(
            """
            add table inet fwmark
            add map inet fwmark pods6 { type ipv6_addr : verdict; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            flush chain inet fwmark prerouting
            add rule inet fwmark mark-00000010-00000010 meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "set mark 0x00000010 under mask 0x00000010"
            delete element inet fwmark pods4 { 10.88.0.5 }
            add element inet fwmark pods4 { 10.88.0.5 comment "tag \"quoted\"" : goto mark-00000010-00000010 }

            """.ReplaceLineEndings("\n"),
            transaction.Render());
    }

    [Fact]
    public void Queueing_an_element_with_an_oversize_comment_fails_at_once()
    {
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var element = new NftElement("pods4", IPAddress.Loopback, "c", new string('x', 200));
        Assert.Throws<ArgumentException>(() => transaction.Add(new AddElementOp(element)));
        Assert.True(transaction.IsEmpty);
    }

    [Fact]
    public void Operations_describe_themselves_for_error_messages()
    {
        var element = new NftElement("pods6", IPAddress.Parse("2001:db8::5"), "mark-1", "t");
        Assert.Equal("add element 2001:db8::5 to map pods6", new AddElementOp(element).Description);
        Assert.Equal("delete element 2001:db8::5 from map pods6", new DeleteElementOp(element).Description);
        Assert.Equal("flush chain prerouting", new FlushChainOp("prerouting").Description);
    }
}
