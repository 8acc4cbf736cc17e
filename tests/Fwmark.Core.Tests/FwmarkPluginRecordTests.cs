using System.Net;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;
using Fwmark.Core.Tests.Fakes;
using static Fwmark.Core.Tests.Fakes.MemoryRecordStore;
using static Fwmark.Core.Tests.Fakes.RecordingDataplane;
using static Fwmark.Core.Tests.Fakes.RecordingRouting;

namespace Fwmark.Core.Tests;

/// <summary>Issue 8 items 1 and 7: the attachment record that ADD writes and DEL/GC remove, and node-wide routing conflicts.</summary>
public class FwmarkPluginRecordTests
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

    private static readonly AttachmentOwner Owner = new(Requests.Network, Requests.Container, "eth0");

    private readonly RecordingDataplane _dataplane = new();
    private readonly RecordingRouting _routing;
    private readonly MemoryRecordStore _records;
    private readonly StringWriter _log = new();

    public FwmarkPluginRecordTests()
    {
        _routing = new RecordingRouting(_dataplane.Calls);
        _records = new MemoryRecordStore(_dataplane.Calls);
    }

    private FwmarkPlugin Plugin() => new(_dataplane, _log, _routing, _records);

    private static CniResult PrevResult() => CniResult.Parse(JsonNode.Parse("""
        {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "sandbox": "/x"}],
         "ips": [{"address": "10.97.0.3/24", "interface": 0}, {"address": "2001:db8::3/64", "interface": 0}]}
        """), "1.0.0");

    private static CniRequest Request(CniCommand command, string markName, Dictionary<string, string>? args = null) =>
        Requests.Make(command, RoutedConfig, args: args,
            runtimeConfig: Requests.Annotations($$"""{"cni.fwmark.net/name": "{{markName}}"}"""),
            prevResult: command == CniCommand.Del ? null : PrevResult());

    [Fact]
    public void Add_records_the_attachment_before_the_kernel_is_programmed()
    {
        var args = new Dictionary<string, string> { ["K8S_POD_NAMESPACE"] = "default", ["K8S_POD_NAME"] = "web" };

        Plugin().Add(Request(CniCommand.Add, "vpn", args));

        Assert.Collection(_dataplane.Calls,
            call => Assert.IsType<Claimed>(call),
            call => Assert.IsType<Saved>(call),
            call => Assert.IsType<Ensured>(call),
            call => Assert.IsType<Installed>(call));
        var record = Assert.Single(_records.Records).Value;
        Assert.Equal(Owner, record.Owner);
        Assert.Equal([IPAddress.Parse("10.97.0.3"), IPAddress.Parse("2001:db8::3")], record.Addresses);
        Assert.Equal(new MarkSpec("vpn", 16, 16), record.Mark);
        Assert.Equal(2184u, record.Route?.Table);
        Assert.Equal(("default", "web"), (record.PodNamespace, record.PodName));
    }

    [Fact]
    public void Add_of_an_unrouted_mark_records_it_without_route_and_claims_nothing()
    {
        Plugin().Add(Request(CniCommand.Add, "plain"));

        Assert.DoesNotContain(_dataplane.Calls, c => c is Claimed);
        var record = Assert.Single(_records.Records).Value;
        Assert.Null(record.Route);
        Assert.Null(record.PodName);
    }

    [Fact]
    public void A_failed_add_removes_its_record_again()
    {
        _dataplane.InstallFailure = new CniException(CniErrorCodes.IoFailure, "failed to install: boom");

        Assert.Throws<CniException>(() => Plugin().Add(Request(CniCommand.Add, "vpn")));

        Assert.Empty(_records.Records);
        Assert.IsType<Deleted>(_dataplane.Calls[^1]);
    }

    [Fact]
    public void Add_fails_with_code_7_naming_both_networks_when_another_network_routes_the_mark_differently()
    {
        var other = new RouteSpec { Table = 3000, Gateway4 = IPAddress.Parse("198.51.100.1") };
        _records.Conflict = new RoutingClaim("othernet", 16, 16, other);

        var e = Assert.Throws<CniException>(() => Plugin().Add(Request(CniCommand.Add, "vpn")));

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Contains("network mustredirect routes mark vpn (0x10/0x10) via 192.0.2.1 dev vpn0 in table 2184", e.Message, StringComparison.Ordinal);
        Assert.Contains("network othernet already routes 0x10/0x10 on this node via 198.51.100.1 in table 3000", e.Message, StringComparison.Ordinal);
        // Nothing touched the kernel, nothing was recorded.
        Assert.Equal([typeof(Claimed)], _dataplane.Calls.Select(c => c.GetType()));
        Assert.Empty(_records.Records);
    }

    [Fact]
    public void Add_fails_when_the_record_cannot_be_written_and_leaves_the_kernel_alone()
    {
        _records.OpenFailure = new DataplaneException(DataplaneFailure.Failed, "failed to use fwmark's state directory /x: permission denied");

        var e = Assert.Throws<CniException>(() => Plugin().Add(Request(CniCommand.Add, "vpn")));

        Assert.Contains("/x", e.Message, StringComparison.Ordinal);
        Assert.Empty(_dataplane.Calls);
    }

    [Fact]
    public void Del_removes_the_record_then_the_elements()
    {
        Plugin().Add(Request(CniCommand.Add, "vpn"));
        _dataplane.Calls.Clear();

        Plugin().Del(Request(CniCommand.Del, "vpn"));

        Assert.Collection(_dataplane.Calls,
            call => Assert.Equal(new Deleted(Owner), call),
            call => Assert.IsType<Removed>(call));
        Assert.Empty(_records.Records);
    }

    [Fact]
    public void Del_still_removes_the_elements_when_the_record_store_cannot_be_used()
    {
        _records.OpenFailure = new DataplaneException(DataplaneFailure.Failed, "failed to use fwmark's state directory /x: it is a file");

        Plugin().Del(Request(CniCommand.Del, "vpn"));

        Assert.IsType<Removed>(Assert.Single(_dataplane.Calls));
        Assert.Contains("warning: the attachment record was not removed: failed to use fwmark's state directory /x", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Gc_removes_the_records_of_stale_attachments_of_this_network_only()
    {
        var route = new RouteSpec { Table = 1 };
        foreach (var (network, container) in new[] { (Requests.Network, "c1"), (Requests.Network, "c2"), ("othernet", "c3") })
        {
            var owner = new AttachmentOwner(network, container, "eth0");
            _records.Records[owner] = new AttachmentRecord(owner, [IPAddress.Loopback], new MarkSpec("vpn", 16, 16), route, null, null, DateTimeOffset.UnixEpoch);
        }

        Plugin().Gc(Requests.Make(CniCommand.Gc, valid: [new("c1", "eth0")]));

        Assert.Equal(["c1", "c3"], _records.Records.Keys.Select(o => o.ContainerId).Order());
        Assert.Contains("and 1 stale record(s)", _log.ToString(), StringComparison.Ordinal);
    }
}
