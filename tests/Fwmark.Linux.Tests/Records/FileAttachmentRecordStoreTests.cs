using System.Net;
using Fwmark.Core;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;
using Fwmark.Linux.Records;

namespace Fwmark.Linux.Tests.Records;

/// <summary>Issue 8 item 1 (the durable record) and 7 (node-wide routing claims), on a temporary root: never /run.</summary>
public sealed class FileAttachmentRecordStoreTests : IDisposable
{
    private static readonly MarkSpec Vpn = new("vpn", 0x10, 0x10);
    private static readonly RouteSpec Route = new() { Table = 2184, Gateway4 = IPAddress.Parse("192.0.2.1") };

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"fwl-records-{Guid.NewGuid():N}");
    private readonly FileAttachmentRecordStore _store;

    public FileAttachmentRecordStoreTests() => _store = new FileAttachmentRecordStore(_root, TimeSpan.FromSeconds(2));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static AttachmentRecord Record(string network, string container, string address = "10.88.0.5", RouteSpec? route = null) => new(
        new AttachmentOwner(network, container, "eth0"), [IPAddress.Parse(address)], Vpn, route, "default", container,
        new DateTimeOffset(2026, 12, 1, 11, 0, 0, TimeSpan.Zero));

    private void Save(params AttachmentRecord[] records)
    {
        using var session = _store.Open();
        foreach (var record in records)
        {
            session.Save(record);
        }
    }

    [Fact]
    public void A_saved_record_is_one_owner_only_file_named_after_its_owner_and_reads_back()
    {
        var record = Record("cbr0", "abc", route: Route);

        Save(record);

        var file = Path.Combine(_root, "attachments", "cbr0", record.Owner.Key + ".json");
        Assert.True(File.Exists(file), string.Join('\n', Directory.GetFiles(_root, "*", SearchOption.AllDirectories)));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(file)!));
        Assert.Equal(AttachmentRecordJson.Serialize(record with { BootId = FileAttachmentRecordStore.CurrentBootId }), File.ReadAllText(file));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(file)!)); // no temporary file left
        var problems = new List<string>();
        var back = Assert.Single(_store.ReadAll(problems));
        Assert.Empty(problems);
        Assert.Equal(record.Owner, back.Owner);
        Assert.Equal(Route, back.Route);
    }

    [Fact]
    public void Saving_again_replaces_and_delete_removes_even_twice()
    {
        Save(Record("cbr0", "abc"), Record("cbr0", "abc", "10.88.0.9"));
        Assert.Equal([IPAddress.Parse("10.88.0.9")], Assert.Single(_store.ReadAll([])).Addresses);

        using var session = _store.Open();
        session.Delete(new AttachmentOwner("cbr0", "abc", "eth0"));
        session.Delete(new AttachmentOwner("cbr0", "abc", "eth0"));
        session.Delete(new AttachmentOwner("never", "was", "eth0"));

        Assert.Empty(_store.ReadAll([]));
    }

    [Fact]
    public void A_corrupt_or_misplaced_record_is_skipped_and_named_and_never_blocks_delete()
    {
        var good = Record("cbr0", "good");
        var corrupt = Record("cbr0", "corrupt");
        Save(good, corrupt);
        var corruptFile = Path.Combine(_root, "attachments", "cbr0", corrupt.Owner.Key + ".json");
        File.WriteAllText(corruptFile, "{\"version\": 1, \"netw");
        var misplaced = Path.Combine(_root, "attachments", "cbr0", "0000000000000000.json");
        File.Copy(Path.Combine(_root, "attachments", "cbr0", good.Owner.Key + ".json"), misplaced);

        var problems = new List<string>();
        var records = _store.ReadAll(problems);

        Assert.Equal([good.Owner], records.Select(r => r.Owner));
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith($"record {corruptFile} cannot be read: not JSON", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("which belongs in another file", StringComparison.Ordinal));
        using var session = _store.Open();
        Assert.Null(session.Read(corrupt.Owner));
        session.Delete(corrupt.Owner);
        Assert.False(File.Exists(corruptFile));
    }

    [Fact]
    public void Delete_stale_removes_only_this_networks_records_that_are_not_valid()
    {
        Save(Record("cbr0", "keep"), Record("cbr0", "stale1"), Record("cbr0", "stale2"), Record("other", "x"));

        using (var session = _store.Open())
        {
            Assert.Equal(2, session.DeleteStale("cbr0", [new AttachmentOwner("cbr0", "keep", "eth0")]));
            Assert.Equal(0, session.DeleteStale("nothing-here", []));
        }

        Assert.Equal(["keep", "x"], _store.ReadAll([]).Select(r => r.Owner.ContainerId).Order());
    }

    [Fact]
    public void A_mark_another_network_with_attachments_routes_differently_is_a_conflict()
    {
        using var session = _store.Open();
        Assert.Null(session.Claim("net-a", Vpn, Route));
        session.Save(Record("net-a", "pod1", route: Route));

        // The same route from another network is no conflict; an overlapping mark with another route is.
        Assert.Null(session.Claim("net-b", new MarkSpec("other-name", 0x10, 0x10), Route));
        var different = Route with { Table = 3000 };
        var conflict = session.Claim("net-c", new MarkSpec("x", 0x30, 0x30), different);

        Assert.NotNull(conflict);
        Assert.Equal(("net-a", 0x10u, 0x10u, Route), (conflict.Network, conflict.Value, conflict.Mask, conflict.Route));
        Assert.False(File.Exists(Path.Combine(_root, "networks", "net-c.json")), "a refused claim must not be recorded");
        // A mark whose bits differ inside both masks, in another table, is fine; in the same table with another gateway it is not.
        Assert.Null(session.Claim("net-d", new MarkSpec("y", 0x20, 0x30), Route with { Table = 4000 }));
        Assert.NotNull(session.Claim("net-e", new MarkSpec("z", 0x20, 0x30), Route with { Gateway4 = IPAddress.Parse("192.0.2.9") }));
    }

    [Fact]
    public void A_network_may_change_its_own_route_and_a_network_without_attachments_no_longer_claims()
    {
        using var session = _store.Open();
        Assert.Null(session.Claim("net-a", Vpn, Route));
        Assert.Null(session.Claim("net-a", Vpn, Route with { Priority = 900 })); // its own config changed

        // net-a has no attachment records: its claim is stale and goes.
        Assert.Null(session.Claim("net-b", Vpn, Route with { Table = 3000 }));
        Assert.False(File.Exists(Path.Combine(_root, "networks", "net-a.json")));
        Assert.Single(AttachmentRecordJson.ParseClaims(File.ReadAllText(Path.Combine(_root, "networks", "net-b.json"))));
    }

    [Fact]
    public void Records_carry_this_boots_id_and_records_of_an_earlier_boot_are_void()
    {
        var current = Record("cbr0", "now");
        var earlier = Record("net-old", "before", "10.88.0.6", Route with { Table = 3000 }) with { BootId = "00000000-0000-0000-0000-000000000000" };
        Save(current);
        var earlierFile = Path.Combine(_root, "attachments", "net-old", earlier.Owner.Key + ".json");
        Directory.CreateDirectory(Path.GetDirectoryName(earlierFile)!);
        File.WriteAllText(earlierFile, AttachmentRecordJson.Serialize(earlier)); // as a previous boot left it on a disk-backed /run
        Directory.CreateDirectory(Path.Combine(_root, "networks"));
        File.WriteAllText(Path.Combine(_root, "networks", "net-old.json"), AttachmentRecordJson.SerializeClaims("net-old", [new RoutingClaim("net-old", 0x10, 0x10, earlier.Route!)]));

        var problems = new List<string>();
        var records = _store.ReadAll(problems);

        Assert.Equal([current.Owner], records.Select(r => r.Owner));
        Assert.Equal(FileAttachmentRecordStore.CurrentBootId, records[0].BootId);
        Assert.NotNull(records[0].BootId);
        Assert.Empty(problems);
        using var session = _store.Open();
        Assert.Null(session.Read(earlier.Owner));
        // net-old's claim is void with its records: another network may route the mark its own way.
        Assert.Null(session.Claim("net-b", Vpn, Route));
        Assert.False(File.Exists(Path.Combine(_root, "networks", "net-old.json")));
    }

    [Fact]
    public void A_root_that_cannot_be_created_is_named_with_the_fix()
    {
        Directory.CreateDirectory(_root);
        var blocker = Path.Combine(_root, "file");
        File.WriteAllText(blocker, "");
        var store = new FileAttachmentRecordStore(Path.Combine(blocker, "run"));

        var e = Assert.Throws<DataplaneException>(store.Open);

        Assert.Equal(DataplaneFailure.Failed, e.Kind); // CNI code 5 (FwmarkPlugin.CodeOf)
        Assert.Contains($"{blocker} is a file, not a directory; move it away", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("IO_", e.Message, StringComparison.Ordinal);
        Assert.Empty(store.ReadAll([]));
    }

    [Fact]
    public void Concurrent_saves_of_different_attachments_all_land()
    {
        Parallel.For(0, 64, i =>
        {
            using var session = _store.Open();
            session.Save(Record("cbr0", $"pod{i}", $"10.88.1.{i + 1}"));
        });

        var problems = new List<string>();
        Assert.Equal(64, _store.ReadAll(problems).Count);
        Assert.Empty(problems);
    }
}
