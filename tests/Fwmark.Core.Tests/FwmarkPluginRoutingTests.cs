using System.Net;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Tests.Fakes;
using static Fwmark.Core.Tests.Fakes.RecordingDataplane;
using static Fwmark.Core.Tests.Fakes.RecordingRouting;

namespace Fwmark.Core.Tests;

/// <summary>How verbs drive IRouting for marks that have a <c>route</c>.</summary>
public class FwmarkPluginRoutingTests
{
    private const string RoutedConfig = """
        {
          "name": "mustredirect",
          "marks": {
            "vpn": { "mark": 16, "mask": 16, "route": { "table": 2184, "gateway": "192.0.2.1", "device": "vpn0" } },
            "plain": { "mark": 32, "mask": 32 }
          }
        }
        """;

    private readonly RecordingDataplane _dataplane = new();
    private readonly RecordingRouting _routing;
    private readonly StringWriter _log = new();

    public FwmarkPluginRoutingTests() => _routing = new RecordingRouting(_dataplane.Calls);

    private FwmarkPlugin Plugin() => new(_dataplane, _log, _routing);

    private static CniResult PrevResult() => CniResult.Parse(JsonNode.Parse("""
        {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/x"}], "ips": [{"address": "10.97.0.3/24", "interface": 0}]}
        """), "1.0.0");

    private static CniRequest Request(CniCommand command, string markName) =>
        Requests.Make(command, RoutedConfig,
            runtimeConfig: Requests.Annotations($$"""{"cni.fwmark.net/name": "{{markName}}"}"""),
            prevResult: command == CniCommand.Del ? null : PrevResult());

    [Fact]
    public void Add_ensures_the_routing_before_any_packet_can_be_marked()
    {
        Plugin().Add(Request(CniCommand.Add, "vpn"));

        Assert.Collection(_dataplane.Calls,
            call =>
            {
                var ensured = Assert.IsType<Ensured>(call);
                Assert.Equal("vpn", ensured.Mark.Name);
                Assert.Equal(2184u, ensured.Route.Table);
                Assert.Equal(IPAddress.Parse("192.0.2.1"), ensured.Route.Gateway4);
            },
            call => Assert.Equal(IPAddress.Parse("10.97.0.3"), Assert.Single(Assert.IsType<Installed>(call).Addresses)));
    }

    [Fact]
    public void Add_logs_routing_warnings_and_still_succeeds()
    {
        _routing.EnsureWarnings = ["vpn0 is down: default via 192.0.2.1 not installed, table 2184 is fail-closed"];

        Plugin().Add(Request(CniCommand.Add, "vpn"));

        Assert.Contains("warning: vpn0 is down", _log.ToString(), StringComparison.Ordinal);
        Assert.IsType<Installed>(_dataplane.Calls[^1]);
    }

    [Fact]
    public void A_mark_without_route_never_touches_routing()
    {
        Plugin().Add(Request(CniCommand.Add, "plain"));
        Plugin().Check(Request(CniCommand.Check, "plain"));

        Assert.DoesNotContain(_dataplane.Calls, c => c is Ensured or RouteVerified);
    }

    [Fact]
    public void Check_reports_routing_problems_after_dataplane_ones()
    {
        _dataplane.VerifyProblems = ["element 10.97.0.3 missing from set pods4"];
        _routing.VerifyProblems = ["IPv4 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" missing"];

        var e = Assert.Throws<CniException>(() => Plugin().Check(Request(CniCommand.Check, "vpn")));

        Assert.Equal(FwmarkErrorCodes.StateMismatch, e.Code);
        Assert.Equal("element 10.97.0.3 missing from set pods4\nIPv4 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" missing", e.Details);
    }

    [Fact]
    public void Check_fails_on_a_routing_problem_alone()
    {
        _routing.VerifyProblems = ["IPv6 route \"unreachable default metric 4294967295\" missing from table 2184"];

        var e = Assert.Throws<CniException>(() => Plugin().Check(Request(CniCommand.Check, "vpn")));

        Assert.Equal("failed to check attachment 267346f9a6097af014f8321cae17ff503c2162d2e24e5281c88e38c0719ac0a9/eth0: IPv6 route \"unreachable default metric 4294967295\" missing from table 2184", e.Message);
    }

    [Fact]
    public void Del_never_removes_node_wide_routing()
    {
        Plugin().Del(Request(CniCommand.Del, "vpn"));

        Assert.IsType<Removed>(Assert.Single(_dataplane.Calls));
    }
}
