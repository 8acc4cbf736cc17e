using Fwmark.Core.Operator;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Tests.Operator;

public class ReconcilerTests
{
    private const string Routed = """
        {"cniVersion": "1.0.0", "name": "cbr0", "plugins": [
          {"type": "flannel"},
          {"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 2184, "device": "wg0"}}, "plain": {"mark": 32}}}
        ]}
        """;

    private readonly FakeRouting _routing = new();
    private readonly StringWriter _output = new();

    private Reconciler.Outcome Run(params (string Path, string Text)[] files) => new Reconciler(_routing, _output).Run(files);

    [Fact]
    public void A_node_that_matches_is_left_alone_and_nothing_is_printed()
    {
        var outcome = Run(("/etc/cni/net.d/10-cbr0.conflist", Routed));

        Assert.True(outcome.NodeMatches);
        Assert.Equal(0, _routing.Ensures);
        Assert.Equal("", _output.ToString());
    }

    [Fact]
    public void A_missing_object_is_repaired_and_reported()
    {
        _routing.Missing.Add("IPv4 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" is missing");

        var outcome = Run(("/etc/cni/net.d/10-cbr0.conflist", Routed));

        Assert.True(outcome.NodeMatches);
        Assert.Equal(1, outcome.Repaired);
        Assert.Equal(
            "/etc/cni/net.d/10-cbr0.conflist: mark vpn (0x10/0x10, table 2184): repaired (IPv4 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" is missing)\n",
            _output.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void What_cannot_be_repaired_makes_the_run_fail_with_the_reason()
    {
        _routing.Missing.Add("IPv4 route \"default dev wg0 table 2184 metric 0\" is missing (device wg0 does not exist)");
        _routing.Unfixable = true;

        var outcome = Run(("/etc/cni/net.d/10-cbr0.conflist", Routed));

        Assert.False(outcome.NodeMatches);
        Assert.Contains("still wrong: IPv4 route \"default dev wg0 table 2184 metric 0\" is missing (device wg0 does not exist)", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_broken_config_is_named_and_the_other_files_are_still_reconciled()
    {
        _routing.Missing.Add("IPv6 route \"unreachable default metric 4294967295\" is missing from table 2184");

        var outcome = Run(
            ("/etc/cni/net.d/05-broken.conflist", """{"name": "x", "plugins": [{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 0}}}]}"""),
            ("/etc/cni/net.d/06-garbage.conflist", "{not json"),
            ("/etc/cni/net.d/10-cbr0.conflist", Routed));

        Assert.False(outcome.NodeMatches);
        var output = _output.ToString();
        Assert.Contains("/etc/cni/net.d/05-broken.conflist: invalid fwmark config: marks.vpn.mask: 0 is not allowed", output, StringComparison.Ordinal);
        Assert.Contains("/etc/cni/net.d/06-garbage.conflist: failed to parse conflist: ", output, StringComparison.Ordinal);
        Assert.Contains("/etc/cni/net.d/10-cbr0.conflist: mark vpn (0x10/0x10, table 2184): repaired (", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mark_shared_by_several_networks_is_ensured_once()
    {
        _routing.Missing.Add("IPv4 rule \"pref 1000 fwmark 0x10/0x10 lookup main suppress_prefixlength 0\" is missing");
        var other = Routed.Replace("\"cbr0\"", "\"other\"", StringComparison.Ordinal).Replace("\"vpn\"", "\"tunnel\"", StringComparison.Ordinal);

        Run(("/etc/cni/net.d/10-cbr0.conflist", Routed), ("/etc/cni/net.d/20-other.conflist", other));

        Assert.Equal(1, _routing.Ensures);
    }

    [Fact]
    public void Files_without_fwmark_and_single_plugin_files_are_understood()
    {
        _routing.Missing.Add("IPv4 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" is missing");

        var outcome = Run(
            ("/etc/cni/net.d/00-bridge.conflist", """{"name": "b", "plugins": [{"type": "bridge"}]}"""),
            ("/etc/cni/net.d/30-single.conf", """{"name": "s", "type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 2184, "device": "wg0"}}}}"""));

        Assert.True(outcome.NodeMatches);
        Assert.Equal(1, _routing.Ensures);
    }

    /// <summary>Reports <see cref="Missing"/> until Ensure runs (unless <see cref="Unfixable"/>).</summary>
    private sealed class FakeRouting : IRouting
    {
        public List<string> Missing { get; } = [];

        public bool Unfixable { get; set; }

        public int Ensures { get; private set; }

        public IReadOnlyList<string> Ensure(MarkSpec mark, RouteSpec route)
        {
            Ensures++;
            if (!Unfixable)
            {
                Missing.Clear();
            }

            return [];
        }

        public IReadOnlyList<string> Verify(MarkSpec mark, RouteSpec route) => [.. Missing];
    }
}
