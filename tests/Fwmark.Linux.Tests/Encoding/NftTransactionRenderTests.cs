using System.Net;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Encoding;

public class NftTransactionRenderTests
{
    [Fact]
    public void Transaction_renders_as_nft_script_in_queue_order()
    {
        var mark = new MarkSpec("vpn", 0x10, 0x10);
        var element = new NftElement(FwmarkRuleset.Set4(mark.ChainName).Name, IPAddress.Parse("10.88.0.5"), "tag \"quoted\"");
        var transaction = new NftTransaction(FwmarkRuleset.Table)
            .Add(new AddTableOp())
            .Add(new AddSetOp(FwmarkRuleset.Set6(mark.ChainName)))
            .Add(new AddChainOp(FwmarkRuleset.Prerouting))
            .Add(new FlushChainOp("prerouting"))
            .Add(new AddRuleOp(FwmarkRuleset.MarkRules(mark)[0]))
            .Add(new DeleteElementOp(element))
            .Add(new AddElementOp(element));

        Assert.Equal(
            """
            add table inet fwmark
            add set inet fwmark pods6-mark-00000010-00000010 { type ipv6_addr; counter; }
            add chain inet fwmark prerouting { type filter hook prerouting priority -150; policy accept; }
            flush chain inet fwmark prerouting
            add rule inet fwmark mark-00000010-00000010 meta mark set meta mark & 0xffffffef | 0x00000010 counter comment "set mark 0x00000010 under mask 0x00000010"
            delete element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 }
            add element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 comment "tag \"quoted\"" }

            """.ReplaceLineEndings("\n"),
            transaction.Render());
    }

    [Fact]
    public void Queueing_an_element_with_an_oversize_comment_fails_at_once()
    {
        var transaction = new NftTransaction(FwmarkRuleset.Table);
        var element = new NftElement("pods4-c", IPAddress.Loopback, new string('x', 200));
        Assert.Throws<ArgumentException>(() => transaction.Add(new AddElementOp(element)));
        Assert.True(transaction.IsEmpty);
    }

    [Fact]
    public void Operations_describe_themselves_for_error_messages()
    {
        var element = new NftElement("pods6-mark-1", IPAddress.Parse("2001:db8::5"), "t");
        Assert.Equal("add element 2001:db8::5 to set pods6-mark-1", new AddElementOp(element).Description);
        Assert.Equal("delete element 2001:db8::5 from set pods6-mark-1", new DeleteElementOp(element).Description);
        Assert.Equal("add set pods6-mark-1", new AddSetOp(FwmarkRuleset.Set6("mark-1")).Description);
        Assert.Equal("flush chain prerouting", new FlushChainOp("prerouting").Description);
    }
}
