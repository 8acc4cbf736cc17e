using System.Net;
using Fwmark.Core.Paths;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Tests.Records;

public class AttachmentRecordJsonTests
{
    private static readonly AttachmentRecord Full = new(
        new AttachmentOwner("cbr0", "abc123", "eth0"),
        [IPAddress.Parse("10.88.0.5"), IPAddress.Parse("2001:db8:88::5")],
        new MarkSpec("vpn", 16, 16) { Connmark = true },
        new RouteSpec { Table = 123, Gateway4 = IPAddress.Parse("192.0.2.1"), Gateway6 = IPAddress.Parse("2001:db8::1"), Device = "vpn0", Priority = 900, FailClosed = false },
        "default",
        "web",
        new DateTimeOffset(2026, 12, 1, 11, 0, 0, TimeSpan.Zero))
    {
        BootId = "6d1c5b8e-2f3a-4c7d-9e0f-1a2b3c4d5e6f",
    };

    [Fact]
    public void A_record_reads_back_as_written()
    {
        var text = AttachmentRecordJson.Serialize(Full);
        var back = AttachmentRecordJson.Parse(text);

        Assert.Equal(Full.Owner, back.Owner);
        Assert.Equal(Full.Addresses, back.Addresses);
        Assert.Equal(Full.Mark, back.Mark);
        Assert.True(back.Mark.Connmark);
        Assert.Equal(Full.Route, back.Route);
        Assert.Equal((Full.PodNamespace, Full.PodName, Full.RecordedAt, Full.BootId), (back.PodNamespace, back.PodName, back.RecordedAt, back.BootId));
    }

    [Fact]
    public void The_format_is_the_documented_one()
    {
        var text = AttachmentRecordJson.Serialize(Full with { Route = null, PodName = null, PodNamespace = null, BootId = null });

        Assert.Equal(
            """{"version":1,"network":"cbr0","containerId":"abc123","ifName":"eth0","addresses":["10.88.0.5","2001:db8:88::5"],"mark":{"name":"vpn","value":16,"mask":16,"connmark":true},"recordedAt":"2026-12-01T11:00:00.0000000Z"}""",
            text);
        Assert.Null(AttachmentRecordJson.Parse(text).Route);
    }

    [Fact]
    public void An_interface_path_is_recorded_with_its_host_veth_and_the_address_path_is_not_written()
    {
        var text = AttachmentRecordJson.Serialize(Full with { Path = new AttachmentPath(MarkKeying.BridgePort, "veth1a2b", "a port of cni0") });
        var back = AttachmentRecordJson.Parse(text);

        Assert.Contains("\"path\":{\"keying\":\"bridgePort\",\"hostInterface\":\"veth1a2b\"}", text, StringComparison.Ordinal);
        Assert.Equal((MarkKeying.BridgePort, "veth1a2b"), (back.Path!.Keying, back.Path.HostInterface));
        Assert.Equal(["if:veth1a2b"], back.Keys);
        Assert.Null(AttachmentRecordJson.Parse(AttachmentRecordJson.Serialize(Full)).Path);
        Assert.Equal(MarkKeying.InputInterface, AttachmentRecordJson.Parse(AttachmentRecordJson.Serialize(Full with { Path = new AttachmentPath(MarkKeying.InputInterface, "cali1", "routed") })).Path!.Keying);
    }

    [Theory]
    [InlineData("""{"version": 1, "network": "n", "containerId": "c", "ifName": "eth0", "addresses": [], "mark": {"name": "v", "value": 1, "mask": 1}, "recordedAt": "2026-12-01T11:00:00Z", "path": {"keying": "macvlan", "hostInterface": "x"}}""", "keying \"macvlan\" is neither")]
    [InlineData("""{"version": 1, "network": "n", "containerId": "c", "ifName": "eth0", "addresses": [], "mark": {"name": "v", "value": 1, "mask": 1}, "recordedAt": "2026-12-01T11:00:00Z", "path": {"keying": "bridgePort", "hostInterface": "a-name-far-too-long"}}""", "is not an interface name")]
    public void A_corrupt_path_is_a_format_error_saying_what_is_wrong(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => AttachmentRecordJson.Parse(text));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "not JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("""{"version": 2}""", "version 2 is not supported")]
    [InlineData("""{"version": 1, "network": "n", "containerId": "c", "ifName": "eth0", "addresses": ["x"]}""", "addresses: \"x\" is not an IP address")]
    [InlineData("""{"version": 1, "network": "n", "containerId": "c", "ifName": "eth0", "addresses": [], "mark": {"name": "v", "value": 3, "mask": 1}}""", "is not a valid mark")]
    public void A_corrupt_record_is_a_format_error_saying_what_is_wrong(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => AttachmentRecordJson.Parse(text));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
