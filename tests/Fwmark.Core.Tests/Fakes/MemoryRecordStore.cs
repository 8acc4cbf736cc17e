using Fwmark.Core.Records;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Tests.Fakes;

/// <summary>An in-memory <see cref="IAttachmentRecordStore"/>; logs its calls into a shared list (with the dataplane's) to check ordering.</summary>
internal sealed class MemoryRecordStore(List<object> calls) : IAttachmentRecordStore
{
    public Dictionary<AttachmentOwner, AttachmentRecord> Records { get; } = [];

    /// <summary>What <see cref="IAttachmentRecordSession.Claim"/> answers.</summary>
    public RoutingClaim? Conflict { get; set; }

    /// <summary>When set, Open throws it (a store directory that cannot be used).</summary>
    public DataplaneException? OpenFailure { get; set; }

    public List<string> UnreadableProblems { get; } = [];

    public string Location => "/memory/attachments";

    public List<object> Calls => calls;

    public IAttachmentRecordSession Open() => OpenFailure is null ? new Session(this) : throw OpenFailure;

    public IReadOnlyList<AttachmentRecord> ReadAll(ICollection<string> problems)
    {
        foreach (var problem in UnreadableProblems)
        {
            problems.Add(problem);
        }

        return [.. Records.Values];
    }

    internal sealed record Saved(AttachmentRecord Record);

    internal sealed record Deleted(AttachmentOwner Owner);

    internal sealed record Claimed(string Network, MarkSpec Mark, RouteSpec Route);

    private sealed class Session(MemoryRecordStore store) : IAttachmentRecordSession
    {
        public AttachmentRecord? Read(AttachmentOwner owner) => store.Records.GetValueOrDefault(owner);

        public void Save(AttachmentRecord record)
        {
            store.Records[record.Owner] = record;
            store.Calls.Add(new Saved(record));
        }

        public void Delete(AttachmentOwner owner)
        {
            store.Records.Remove(owner);
            store.Calls.Add(new Deleted(owner));
        }

        public int DeleteStale(string network, IReadOnlyCollection<AttachmentOwner> valid)
        {
            var stale = store.Records.Keys.Where(o => o.Network == network && !valid.Contains(o)).ToList();
            stale.ForEach(o => store.Records.Remove(o));
            return stale.Count;
        }

        public RoutingClaim? Claim(string network, MarkSpec mark, RouteSpec route)
        {
            store.Calls.Add(new Claimed(network, mark, route));
            return store.Conflict;
        }

        public void Dispose()
        {
        }
    }
}
