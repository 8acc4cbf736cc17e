using System.Net;
using System.Net.Sockets;
using Fwmark.Core.Inspection;
using Fwmark.Core.Paths;
using Fwmark.Core.Records;
using Fwmark.Core.Status;
using Fwmark.Core.Tests.Fakes;

namespace Fwmark.Core.Tests.Status;

/// <summary>How status matches kernel elements to records (by owner key only) and what it says when they disagree.</summary>
public class StatusCollectorTests
{
    private static readonly MarkSpec Vpn = new("vpn", 0x10, 0x10);
    private static readonly AttachmentOwner PodA = new("net", "container-a", "eth0");
    private static readonly AttachmentOwner PodB = new("net", "container-b", "eth0");

    [Fact]
    public void Elements_join_their_record_by_owner_key_and_a_record_without_elements_is_not_in_kernel()
    {
        var records = new MemoryRecordStore([]);
        records.Records[PodA] = Record(PodA, "10.88.0.5", "2001:db8::5");
        records.Records[PodB] = Record(PodB, "10.88.0.6");
        var marking = new Marking(
            Element("10.88.0.5", PodA.Tag, 3, 300),
            Element("2001:db8::5", PodA.Tag, 1, 100),
            Element("10.88.0.9", new AttachmentOwner("net", "container-c", "eth1").Tag, 5, 500));

        var report = Collect(marking, records);

        var a = report.Attachments.Single(x => x.ContainerId == PodA.ContainerId);
        Assert.Equal((AttachmentState.Ok, "default", "pod-container-a", 4UL, 400UL), (a.State, a.PodNamespace, a.PodName, a.Packets!.Value, a.Bytes!.Value));
        var b = report.Attachments.Single(x => x.ContainerId == PodB.ContainerId);
        Assert.Equal(AttachmentState.NotInKernel, b.State);
        Assert.Null(b.Packets);
        var c = report.Attachments.Single(x => x.ContainerId == "container-c");
        Assert.Equal((AttachmentState.NoRecord, "net", "eth1", null), (c.State, c.Network, c.IfName, c.PodName));
        var mark = report.Marks.Single();
        Assert.Equal(("vpn", 3, 9UL, 900UL), (mark.Name, mark.Attachments, mark.Packets!.Value, mark.Bytes!.Value));
    }

    [Fact]
    public void A_set_without_counters_makes_its_counts_unknown_never_zero()
    {
        var marking = new Marking(Element("10.88.0.5", PodA.Tag, null, null)) { Counters = false };

        var report = Collect(marking, new MemoryRecordStore([]));

        Assert.False(report.Table.Counters);
        Assert.Null(report.Attachments.Single().Packets);
        Assert.Null(report.Marks.Single().Packets);
    }

    [Fact]
    public void An_interface_keyed_record_is_matched_by_its_host_interface_in_the_set_of_its_path_not_by_its_addresses()
    {
        var records = new MemoryRecordStore([]);
        records.Records[PodA] = Record(PodA, "10.88.0.5") with { Path = new AttachmentPath(MarkKeying.BridgePort, "veth1", "test") };
        records.Records[PodB] = Record(PodB, "10.88.0.6") with { Path = new AttachmentPath(MarkKeying.BridgePort, "veth2", "test") };
        var marking = new Marking(
            Name("veth1", PodA.Tag, MarkKeying.BridgePort, 7, 700),
            Name("veth2", PodB.Tag, MarkKeying.InputInterface, 2, 200)); // PodB's name, but in the routed set

        var report = Collect(marking, records);

        var a = report.Attachments.Single(x => x.ContainerId == PodA.ContainerId);
        var key = Assert.Single(a.Keys); // its address is no key of it
        Assert.Equal((MarkedKeyKind.Interface, "veth1", MarkKeying.BridgePort, true, true), (key.Kind, key.Key, key.Keying, key.InKernel, key.InRecord));
        Assert.Equal((AttachmentState.Ok, 7UL, 700UL), (a.State, a.Packets!.Value, a.Bytes!.Value));
        var b = report.Attachments.Single(x => x.ContainerId == PodB.ContainerId);
        Assert.Equal(AttachmentState.Partial, b.State);
        Assert.Equal(
            [(MarkKeying.BridgePort, false, true), (MarkKeying.InputInterface, true, false)],
            b.Keys.Select(k => (k.Keying, k.InKernel, k.InRecord)).OrderBy(k => k.Keying));
        Assert.Equal((9UL, 900UL), (report.Marks.Single().Packets!.Value, report.Marks.Single().Bytes!.Value));
    }

    private static StatusReport Collect(Marking marking, IAttachmentRecordStore records) =>
        new StatusCollector
        {
            Marking = marking,
            Node = new EmptyNode(),
            Records = records,
            Configured = [new StatusMark(Vpn, null)],
            RunDir = Path.Combine(Path.GetTempPath(), $"fwmark-status-{Guid.NewGuid():N}"),
        }.Collect(DateTimeOffset.UnixEpoch);

    private static AttachmentRecord Record(AttachmentOwner owner, params string[] addresses) =>
        new(owner, [.. addresses.Select(IPAddress.Parse)], Vpn, null, "default", "pod-" + owner.ContainerId, DateTimeOffset.UnixEpoch);

    private static MarkedElement Element(string address, string tag, ulong? packets, ulong? bytes) =>
        new(Vpn, "pods", IPAddress.Parse(address).AddressFamily == AddressFamily.InterNetworkV6 ? MarkedKeyKind.IPv6 : MarkedKeyKind.IPv4, address, tag,
            packets is { } p ? new ElementCounter(p, bytes!.Value) : null);

    private static MarkedElement Name(string name, string tag, MarkKeying keying, ulong packets, ulong bytes) =>
        new(Vpn, "names", MarkedKeyKind.Interface, name, tag, new ElementCounter(packets, bytes)) { Keying = keying };

    private sealed class Marking(params MarkedElement[] elements) : IMarkingReader
    {
        public bool Counters { get; init; } = true;

        public MarkingSnapshot Read() => new(true, [Vpn], elements, Counters);

        public bool? LinkUp(string name) => null;
    }

    private sealed class EmptyNode : INodeView
    {
        public string? NftablesProblem() => null;

        public IReadOnlyList<NodeRule> Rules(AddressFamily family) => [];

        public IReadOnlyList<NodeRoute> Routes(AddressFamily family, uint table) => [];

        public bool HasLink(string name) => false;

        public string? Sysctl(string key) => null;
    }
}
