using System.Net;
using Fwmark.Core.Operator;
using Fwmark.Core.Paths;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;
using Fwmark.Core.Tests.Fakes;
using static Fwmark.Core.Tests.Fakes.MemoryRecordStore;
using static Fwmark.Core.Tests.Fakes.RecordingDataplane;
using static Fwmark.Core.Tests.Fakes.RecordingRouting;

namespace Fwmark.Core.Tests.Operator;

/// <summary>Issue 8 item 2: reconcile restores every recorded attachment through IDataplane.Install.</summary>
public class ReconcilerRecordTests
{
    private static readonly MarkSpec Vpn = new("vpn", 16, 16);
    private static readonly RouteSpec Route = new() { Table = 2184, Device = "wg0" };

    private readonly RecordingDataplane _dataplane = new();
    private readonly RecordingRouting _routing;
    private readonly MemoryRecordStore _records;
    private readonly StringWriter _output = new();
    private readonly HashSet<AttachmentOwner> _marked = [];

    public ReconcilerRecordTests()
    {
        _routing = new RecordingRouting(_dataplane.Calls);
        _records = new MemoryRecordStore(_dataplane.Calls);
        // A kernel that lost everything (nft flush ruleset): an attachment is marked once Install ran for it.
        _dataplane.VerifyAnswer = owner => _marked.Contains(owner) || _dataplane.Calls.OfType<Installed>().Any(i => i.Owner == owner)
            ? []
            : [$"element of {owner.ContainerId} is missing"];
    }

    private Reconciler.Outcome Run() => new Reconciler(_routing, _output, _dataplane, _records).Run([]);

    private AttachmentRecord Record(string container, string address, int minute, RouteSpec? route = null)
    {
        var owner = new AttachmentOwner("cbr0", container, "eth0");
        var record = new AttachmentRecord(owner, [IPAddress.Parse(address)], Vpn, route, "default", container, DateTimeOffset.UnixEpoch.AddMinutes(minute));
        _records.Records[owner] = record;
        return record;
    }

    [Fact]
    public void Every_lost_attachment_is_installed_again_and_each_restore_is_reported()
    {
        Record("c1", "10.88.0.2", 1);
        Record("c2", "10.88.0.3", 2);

        var outcome = Run();

        Assert.True(outcome.NodeMatches, _output.ToString());
        Assert.Equal(["c1", "c2"], _dataplane.Calls.OfType<Installed>().Select(i => i.Owner.ContainerId).Order());
        var c1 = _dataplane.Calls.OfType<Installed>().First(i => i.Owner.ContainerId == "c1");
        Assert.Equal([IPAddress.Parse("10.88.0.2")], c1.Addresses);
        Assert.Equal(Vpn, c1.Mark);
        Assert.Contains("cbr0/c1/eth0 (10.88.0.2, mark vpn 0x10/0x10): restored (element of c1 is missing)", _output.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, outcome.Repaired);
    }

    [Fact]
    public void An_interface_keyed_record_is_restored_on_its_path_and_a_shared_address_of_another_bridge_is_no_conflict()
    {
        // Two live pods with the same address on two bridges (overlapping ranges): each is keyed by its own veth.
        var port = new AttachmentPath(MarkKeying.BridgePort, "vethA", "recorded at ADD");
        var a = Record("a", "10.88.0.2", 1) with { Path = port };
        _records.Records[a.Owner] = a;
        var b = Record("b", "10.88.0.2", 2) with { Owner = new AttachmentOwner("cbr1", "b", "eth0"), Path = new AttachmentPath(MarkKeying.BridgePort, "vethB", "recorded at ADD") };
        _records.Records.Remove(new AttachmentOwner("cbr0", "b", "eth0"));
        _records.Records[b.Owner] = b;

        var outcome = Run();

        Assert.True(outcome.NodeMatches, _output.ToString());
        Assert.Equal(["a", "b"], _dataplane.Calls.OfType<Installed>().Select(i => i.Owner.ContainerId).Order());
        Assert.Contains(_dataplane.Paths, p => p.Keying == MarkKeying.BridgePort && p.HostInterface == "vethA");
        Assert.Contains(_dataplane.Paths, p => p.Keying == MarkKeying.BridgePort && p.HostInterface == "vethB");
        Assert.DoesNotContain("stale", _output.ToString(), StringComparison.Ordinal);
        Assert.Contains("cbr0/a/eth0 (bridge port vethA: 10.88.0.2, mark vpn 0x10/0x10): restored", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_that_holds_every_recorded_attachment_is_left_alone_quietly()
    {
        _marked.Add(Record("c1", "10.88.0.2", 1).Owner);

        var outcome = Run();

        Assert.True(outcome.NodeMatches);
        Assert.Empty(_dataplane.Calls.OfType<Installed>());
        Assert.Equal("", _output.ToString());
    }

    [Fact]
    public void An_address_the_kernel_gives_to_another_owner_is_not_taken_over()
    {
        Record("c1", "10.88.0.2", 1);
        _dataplane.VerifyAnswer = _ => ["element 10.88.0.2 in set pods4-mark-00000010-00000010 is owned by another attachment (1234abcd.x other/c9/eth0)"];

        var outcome = Run();

        Assert.False(outcome.NodeMatches);
        Assert.Empty(_dataplane.Calls.OfType<Installed>());
        Assert.Contains("not restored: element 10.88.0.2", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Of_two_records_of_one_address_the_newest_wins_and_the_stale_one_is_deleted()
    {
        var old = Record("old", "10.88.0.2", 1);
        Record("new", "10.88.0.2", 5);

        var outcome = Run();

        Assert.True(outcome.NodeMatches, _output.ToString());
        Assert.Equal(["new"], _dataplane.Calls.OfType<Installed>().Select(i => i.Owner.ContainerId));
        Assert.Contains(new Deleted(old.Owner), _dataplane.Calls);
        Assert.Contains("cbr0/old/eth0: deleted its stale record", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_record_fails_the_run_and_is_named()
    {
        _records.UnreadableProblems.Add("record /run/fwmark/attachments/cbr0/0123456789abcdef.json cannot be read: not JSON");

        var outcome = Run();

        Assert.False(outcome.NodeMatches);
        Assert.Contains("/run/fwmark/attachments/cbr0/0123456789abcdef.json cannot be read", _output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_recorded_route_that_no_conflist_routes_is_ensured_from_the_record()
    {
        Record("c1", "10.88.0.2", 1, Route);
        _routing.VerifyProblems = ["IPv4 rule \"pref 1001 fwmark 0x10/0x10 lookup 2184\" is missing"];

        Run();

        var ensured = Assert.Single(_dataplane.Calls.OfType<Ensured>());
        Assert.Equal(Route, ensured.Route);
        Assert.True(_dataplane.Calls.IndexOf(ensured) < _dataplane.Calls.FindIndex(c => c is Installed), "routing must be restored before packets are marked again");
    }

    [Fact]
    public void A_record_deleted_by_a_concurrent_del_is_not_restored()
    {
        var record = Record("c1", "10.88.0.2", 1);
        var store = new VanishingStore(_records, record.Owner);

        var outcome = new Reconciler(_routing, _output, _dataplane, store).Run([]);

        Assert.True(outcome.NodeMatches);
        Assert.Empty(_dataplane.Calls.OfType<Installed>());
    }

    /// <summary>Lists a record, then loses it before the restore's session reads it again (a DEL in between).</summary>
    private sealed class VanishingStore(MemoryRecordStore inner, AttachmentOwner owner) : IAttachmentRecordStore
    {
        public string Location => inner.Location;

        public IAttachmentRecordSession Open()
        {
            inner.Records.Remove(owner);
            return inner.Open();
        }

        public IReadOnlyList<AttachmentRecord> ReadAll(ICollection<string> problems) => inner.ReadAll(problems);
    }
}
