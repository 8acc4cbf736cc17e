using System.Net;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Paths;
using Fwmark.Core.Tests.Fakes;
using static Fwmark.Core.Tests.Fakes.RecordingDataplane;

namespace Fwmark.Core.Tests;

public class FwmarkPluginTests
{
    private static readonly AttachmentOwner Owner = new(Requests.Network, Requests.Container, "eth0");
    private static readonly MarkSpec Vpn = new("vpn", 16, 16);
    private static readonly string VpnAnnotation = Requests.Annotations("""{"cni.fwmark.net/name": "vpn"}""");

    private readonly RecordingDataplane _dataplane = new();
    private readonly StringWriter _log = new();

    private FwmarkPlugin Plugin() => new(_dataplane, _log, new RecordingRouting(_dataplane.Calls));

    /// <summary>
    /// A bridge-style result: host-side interfaces first, then eth0 holding <paramref name="addresses"/>,
    /// and a second container interface net1 whose address must never be used for eth0.
    /// </summary>
    private static CniResult PrevResult(params string[] addresses)
    {
        var ips = addresses.Select(a => $$"""{"address": "{{a}}/{{(a.Contains(':') ? 64 : 24)}}", "interface": 2}""")
            .Append("""{"address": "198.51.100.9/24", "interface": 3}""");
        var json = $$"""
            {
              "cniVersion": "1.0.0",
              "interfaces": [{"name": "cni0"}, {"name": "veth1"}, {"name": "eth0", "sandbox": "/var/run/netns/cni-test"},
                             {"name": "net1", "sandbox": "/var/run/netns/cni-test"}],
              "ips": [{{string.Join(", ", ips)}}],
              "dns": {}
            }
            """;
        return CniResult.Parse(JsonNode.Parse(json), "1.0.0");
    }

    [Fact]
    public void Add_installs_the_selected_mark_on_the_attachment_addresses()
    {
        Plugin().Add(Requests.Make(CniCommand.Add, runtimeConfig: VpnAnnotation, prevResult: PrevResult("10.97.0.3", "2001:db8::3")));

        var installed = Assert.IsType<Installed>(Assert.Single(_dataplane.Calls));
        Assert.Equal(Owner, installed.Owner);
        Assert.Equal([IPAddress.Parse("10.97.0.3"), IPAddress.Parse("2001:db8::3")], installed.Addresses);
        Assert.Equal(Vpn, installed.Mark);
        Assert.Equal(
            "fwmark: ADD mustredirect/267346f9a609/eth0: marked 10.97.0.3, 2001:db8::3 with vpn (0x10/0x10) from annotation cni.fwmark.net/name (path: address: no interface reader configured)\n",
            _log.ToString());
    }

    [Fact]
    public void Add_marks_only_the_addresses_of_the_requested_interface()
    {
        var request = Requests.Make(CniCommand.Add, runtimeConfig: VpnAnnotation, prevResult: PrevResult("10.97.0.3")) with { IfName = "net1" };

        Plugin().Add(request);

        var installed = Assert.IsType<Installed>(Assert.Single(_dataplane.Calls));
        Assert.Equal(Owner with { IfName = "net1" }, installed.Owner);
        Assert.Equal([IPAddress.Parse("198.51.100.9")], installed.Addresses);
    }

    [Fact]
    public void Add_uses_the_namespace_entry_when_nothing_more_specific_is_given()
    {
        var args = new Dictionary<string, string> { ["K8S_POD_NAMESPACE"] = "secure" };

        Plugin().Add(Requests.Make(CniCommand.Add, args: args, prevResult: PrevResult("10.97.0.3")));

        Assert.Equal(Vpn, Assert.IsType<Installed>(Assert.Single(_dataplane.Calls)).Mark);
        Assert.Contains("from namespace secure", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Add_with_no_selection_installs_nothing_and_says_so()
    {
        Plugin().Add(Requests.Make(CniCommand.Add, prevResult: PrevResult("10.97.0.3")));

        Assert.Empty(_dataplane.Calls);
        Assert.Equal("fwmark: ADD mustredirect/267346f9a609/eth0: no mark selected, nothing installed\n", _log.ToString());
    }

    [Fact]
    public void Add_with_a_mark_selected_but_no_address_on_the_interface_fails_closed()
    {
        var e = Assert.Throws<CniException>(() =>
            Plugin().Add(Requests.Make(CniCommand.Add, runtimeConfig: VpnAnnotation, prevResult: PrevResult())));

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal($"failed to mark attachment {Requests.Container}/eth0: vpn (0x10/0x10) from annotation cni.fwmark.net/name selected but prevResult has no IP address on eth0", e.Message);
        Assert.Empty(_dataplane.Calls);
    }

    [Fact]
    public void Add_without_prevResult_fails_before_touching_the_dataplane()
    {
        var e = Assert.Throws<CniException>(() => Plugin().Add(Requests.Make(CniCommand.Add, runtimeConfig: VpnAnnotation)));

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal("must be called as a chained plugin: ADD needs prevResult", e.Message);
        Assert.Empty(_dataplane.Calls);
    }

    [Theory]
    [InlineData("""{"name": "mustredirect", "marks": {"vpn": {"mark": 17, "mask": 16}}}""", CniErrorCodes.InvalidNetworkConfig)]
    [InlineData("""{"name": "mustredirect"}""", CniErrorCodes.InvalidNetworkConfig)]
    [InlineData("""{"name": "mustredirect", "marks": {"vpn": {"mark": 16, "route": {"table": 254}}}}""", CniErrorCodes.InvalidNetworkConfig)]
    public void Add_with_a_bad_config_fails_before_touching_the_dataplane(string config, int code)
    {
        var e = Assert.Throws<CniException>(() =>
            Plugin().Add(Requests.Make(CniCommand.Add, config, runtimeConfig: VpnAnnotation, prevResult: PrevResult("10.97.0.3"))));

        Assert.Equal(code, e.Code);
        Assert.Empty(_dataplane.Calls);
    }

    [Fact]
    public void Add_with_an_unknown_mark_name_fails_closed()
    {
        var runtimeConfig = Requests.Annotations("""{"cni.fwmark.net/name": "vpm"}""");

        var e = Assert.Throws<CniException>(() =>
            Plugin().Add(Requests.Make(CniCommand.Add, runtimeConfig: runtimeConfig, prevResult: PrevResult("10.97.0.3"))));

        Assert.Equal("unknown mark name \"vpm\" from annotation cni.fwmark.net/name; valid names: gw2, vpn", e.Message);
        Assert.Empty(_dataplane.Calls);
    }

    [Fact]
    public void Add_lets_dataplane_errors_through_unchanged()
    {
        var failure = new CniException(CniErrorCodes.IoFailure, "failed to commit nftables transaction: EPERM");
        var plugin = new FwmarkPlugin(new ThrowingDataplane(failure), _log, new RecordingRouting([]));

        var e = Assert.Throws<CniException>(() => plugin.Add(Requests.Make(CniCommand.Add, runtimeConfig: VpnAnnotation, prevResult: PrevResult("10.97.0.3"))));

        Assert.Same(failure, e);
    }

    [Theory]
    [InlineData(DataplaneFailure.Busy, CniErrorCodes.TryAgainLater)]
    [InlineData(DataplaneFailure.Conflict, CniErrorCodes.IoFailure)]
    [InlineData(DataplaneFailure.Failed, CniErrorCodes.IoFailure)]
    [InlineData(DataplaneFailure.Unavailable, CniErrorCodes.IoFailure)]
    public void Add_turns_a_dataplane_failure_into_the_cni_code_of_its_kind(DataplaneFailure kind, int code)
    {
        var failure = new DataplaneException(kind, "failed to install mark vpn: EPERM", "EPERM (1)");
        var plugin = new FwmarkPlugin(new ThrowingDataplane(failure), _log, new RecordingRouting([]));

        var e = Assert.Throws<CniException>(() => plugin.Add(Requests.Make(CniCommand.Add, runtimeConfig: VpnAnnotation, prevResult: PrevResult("10.97.0.3"))));

        Assert.Equal((code, "failed to install mark vpn: EPERM", "EPERM (1)"), (e.Code, e.Message, e.Details));
    }

    [Fact]
    public void Del_check_and_gc_turn_dataplane_failures_into_cni_errors()
    {
        var plugin = new FwmarkPlugin(new ThrowingDataplane(new DataplaneException(DataplaneFailure.Busy, "failed to lock")), _log, new RecordingRouting([]));

        Assert.Equal(CniErrorCodes.TryAgainLater, Assert.Throws<CniException>(() => plugin.Del(Requests.Make(CniCommand.Del))).Code);
        Assert.Equal(CniErrorCodes.TryAgainLater, Assert.Throws<CniException>(() => plugin.Check(Requests.Make(CniCommand.Check, runtimeConfig: VpnAnnotation, prevResult: PrevResult("10.97.0.3")))).Code);
        Assert.Equal(CniErrorCodes.TryAgainLater, Assert.Throws<CniException>(() => plugin.Gc(Requests.Make(CniCommand.Gc))).Code);
    }

    [Fact]
    public void Del_with_prevResult_removes_the_owner_by_its_addresses()
    {
        Plugin().Del(Requests.Make(CniCommand.Del, prevResult: PrevResult("10.97.0.3", "2001:db8::3")));

        var removed = Assert.IsType<Removed>(Assert.Single(_dataplane.Calls));
        Assert.Equal(Owner, removed.Owner);
        Assert.Equal([IPAddress.Parse("10.97.0.3"), IPAddress.Parse("2001:db8::3")], removed.Addresses);
    }

    [Fact]
    public void Del_without_prevResult_removes_the_owner_by_scanning()
    {
        Plugin().Del(Requests.Make(CniCommand.Del));

        var removed = Assert.IsType<Removed>(Assert.Single(_dataplane.Calls));
        Assert.Equal(Owner, removed.Owner);
        Assert.Null(removed.Addresses);
    }

    [Fact]
    public void Del_with_no_address_in_prevResult_scans_rather_than_removing_nothing()
    {
        Plugin().Del(Requests.Make(CniCommand.Del, prevResult: PrevResult()));

        Assert.Null(Assert.IsType<Removed>(Assert.Single(_dataplane.Calls)).Addresses);
    }

    [Theory]
    [InlineData("""{"name": "mustredirect"}""")]
    [InlineData("""{"name": "mustredirect", "marks": "garbage", "connmark": true}""")]
    [InlineData("""{"name": "mustredirect", "marks": {"vpn": {"mark": 16, "route": {}}}}""")]
    public void Del_ignores_a_broken_config_and_repeats_safely(string config)
    {
        var plugin = Plugin();
        var request = Requests.Make(CniCommand.Del, config, runtimeConfig: VpnAnnotation);

        plugin.Del(request);
        plugin.Del(request);

        Assert.Equal([new Removed(Owner, null), new Removed(Owner, null)], _dataplane.Calls.Cast<Removed>(), RemovedEquals);
    }

    [Fact]
    public void Check_verifies_the_attachment_and_passes_when_the_dataplane_agrees()
    {
        Plugin().Check(Requests.Make(CniCommand.Check, runtimeConfig: VpnAnnotation, prevResult: PrevResult("10.97.0.3")));

        var verified = Assert.IsType<Verified>(Assert.Single(_dataplane.Calls));
        Assert.Equal(Owner, verified.Owner);
        Assert.Equal([IPAddress.Parse("10.97.0.3")], verified.Addresses);
        Assert.Equal(Vpn, verified.Mark);
    }

    [Fact]
    public void Check_turns_dataplane_problems_into_a_state_mismatch_error()
    {
        _dataplane.VerifyProblems = ["element 10.97.0.3 is missing", "chain mark-00000010-00000010 is missing"];

        var e = Assert.Throws<CniException>(() =>
            Plugin().Check(Requests.Make(CniCommand.Check, runtimeConfig: VpnAnnotation, prevResult: PrevResult("10.97.0.3"))));

        Assert.Equal(100, e.Code);
        Assert.Equal(FwmarkErrorCodes.StateMismatch, e.Code);
        Assert.Equal($"failed to check attachment {Requests.Container}/eth0: element 10.97.0.3 is missing", e.Message);
        Assert.Equal("element 10.97.0.3 is missing\nchain mark-00000010-00000010 is missing", e.Details);
    }

    [Fact]
    public void Check_with_no_selection_has_nothing_to_verify()
    {
        _dataplane.VerifyProblems = ["would fail if asked"];

        Plugin().Check(Requests.Make(CniCommand.Check, prevResult: PrevResult("10.97.0.3")));

        Assert.Empty(_dataplane.Calls);
        Assert.Contains("no mark selected, nothing to verify", _log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Check_without_prevResult_fails()
    {
        var e = Assert.Throws<CniException>(() => Plugin().Check(Requests.Make(CniCommand.Check, runtimeConfig: VpnAnnotation)));

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal("must be called as a chained plugin: CHECK needs prevResult", e.Message);
        Assert.Empty(_dataplane.Calls);
    }

    [Fact]
    public void Check_with_a_bad_config_fails_before_touching_the_dataplane()
    {
        var e = Assert.Throws<CniException>(() =>
            Plugin().Check(Requests.Make(CniCommand.Check, """{"marks": {}}""", runtimeConfig: VpnAnnotation, prevResult: PrevResult("10.97.0.3"))));

        Assert.Equal("invalid fwmark config: marks: {} is empty (at least one mark is required)", e.Message);
        Assert.Empty(_dataplane.Calls);
    }

    [Fact]
    public void Gc_keeps_the_valid_attachments_of_this_network()
    {
        _dataplane.CollectResult = 3;
        GcAttachment[] valid = [new("c1", "eth0"), new("c2", "eth0"), new("c2", "net1"), new("c1", "eth0")];

        Plugin().Gc(Requests.Make(CniCommand.Gc, """{"marks": "broken"}""", valid: valid));

        var collected = Assert.IsType<Collected>(Assert.Single(_dataplane.Calls));
        Assert.Equal(Requests.Network, collected.Network);
        Assert.Equal(
            [new AttachmentOwner(Requests.Network, "c1", "eth0"), new(Requests.Network, "c2", "eth0"), new(Requests.Network, "c2", "net1")],
            collected.Valid);
        Assert.Equal("fwmark: GC mustredirect: removed 3 stale element(s), kept those of 3 valid attachment(s)\n", _log.ToString());
    }

    [Fact]
    public void Gc_without_a_valid_list_collects_everything_of_this_network()
    {
        Plugin().Gc(Requests.Make(CniCommand.Gc));

        var collected = Assert.IsType<Collected>(Assert.Single(_dataplane.Calls));
        Assert.Equal(Requests.Network, collected.Network);
        Assert.Empty(collected.Valid);
    }

    [Fact]
    public void Status_succeeds_when_the_probe_does_even_with_a_broken_config()
    {
        Plugin().Status(Requests.Make(CniCommand.Status, """{"marks": {"vpn": {"mark": 1, "route": {}}}, "connmark": true}"""));

        Assert.IsType<Probed>(Assert.Single(_dataplane.Calls));
    }

    [Fact]
    public void Status_reports_plugin_not_available_when_the_probe_fails()
    {
        _dataplane.ProbeFailure = new InvalidOperationException("nf_tables: Operation not supported", new IOException("EOPNOTSUPP"));

        var e = Assert.Throws<CniException>(() => Plugin().Status(Requests.Make(CniCommand.Status)));

        Assert.Equal(CniErrorCodes.PluginNotAvailable, e.Code);
        Assert.Equal("failed to probe dataplane: nf_tables: Operation not supported", e.Message);
        Assert.Equal("InvalidOperationException: nf_tables: Operation not supported\nIOException: EOPNOTSUPP", e.Details);
    }

    [Fact]
    public void Status_lets_a_status_error_from_the_probe_through_unchanged()
    {
        var failure = new CniException(CniErrorCodes.PluginNotAvailableDegraded, "failed to open netlink socket: EPERM");
        _dataplane.ProbeFailure = failure;

        var e = Assert.Throws<CniException>(() => Plugin().Status(Requests.Make(CniCommand.Status)));

        Assert.Same(failure, e);
    }

    [Fact]
    public void Status_turns_any_other_cni_error_into_plugin_not_available()
    {
        // What NftDataplane.Probe really throws without CAP_NET_ADMIN: code 5, which STATUS may not return.
        _dataplane.ProbeFailure = new CniException(CniErrorCodes.IoFailure, "failed to read nftables generation: Operation not permitted", "EPERM (1)");

        var e = Assert.Throws<CniException>(() => Plugin().Status(Requests.Make(CniCommand.Status)));

        Assert.Equal(CniErrorCodes.PluginNotAvailable, e.Code);
        Assert.Equal("failed to probe dataplane: failed to read nftables generation: Operation not permitted", e.Message);
        Assert.StartsWith("EPERM (1)\n", e.Details, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_turns_a_dataplane_failure_into_plugin_not_available()
    {
        _dataplane.ProbeFailure = new DataplaneException(DataplaneFailure.Unavailable, "failed to program nftables: socket: Protocol not supported", "EPROTONOSUPPORT (93) from socket()");

        var e = Assert.Throws<CniException>(() => Plugin().Status(Requests.Make(CniCommand.Status)));

        Assert.Equal(CniErrorCodes.PluginNotAvailable, e.Code);
        Assert.Equal("failed to probe dataplane: failed to program nftables: socket: Protocol not supported", e.Message);
        Assert.StartsWith("EPROTONOSUPPORT (93) from socket()\n", e.Details, StringComparison.Ordinal);
    }

    private static readonly IEqualityComparer<Removed> RemovedEquals = EqualityComparer<Removed>.Create(
        (a, b) => a!.Owner == b!.Owner && (a.Addresses is null ? b.Addresses is null : b.Addresses is not null && a.Addresses.SequenceEqual(b.Addresses)));

    private sealed class ThrowingDataplane(Exception failure) : IDataplane
    {
        public void InstallTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark) => throw failure;

        public void RemoveKeys(AttachmentOwner owner, AttachmentKeys? keys) => throw failure;

        public IReadOnlyList<string> VerifyTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark) => throw failure;

        public int Collect(string network, IReadOnlyCollection<AttachmentOwner> valid) => throw failure;

        public void Probe() => throw failure;
    }
}
