using Fwmark.Core.Agent;

namespace Fwmark.Core.Tests.Agent;

public class NodeConfigTests
{
    [Fact]
    public void Marks_and_route_tables_come_from_every_fwmark_object_and_broken_files_are_skipped()
    {
        var node = NodeConfig.Read(
        [
            ("a.conflist", """{"name":"a","plugins":[{"type":"bridge"},{"type":"fwmark","marks":{"vpn":{"mark":16,"mask":16,"route":{"table":2184,"device":"wg0"}}}}]}"""),
            ("b.conf", """{"name":"b","type":"fwmark","connmark":true,"marks":{"gw":{"mark":"0x888"}}}"""),
            ("c.conflist", """{"name":"c","plugins":[{"type":"fwmark","marks":{}}]}"""),
            ("d.conflist", "{ not json"),
            ("e.conflist", """{"name":"e","plugins":[{"type":"fwmark","marks":{"same":{"mark":16,"mask":16}}}]}"""),
        ]);

        Assert.Equal([(0x10u, 0x10u, false), (0x888u, 0xffffffffu, true)], node.Marks.Select(m => (m.Value, m.Mask, m.Connmark)));
        Assert.Equal([2184u], node.RouteTables);
    }
}
