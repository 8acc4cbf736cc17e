using Fwmark.Core.Routing;

namespace Fwmark.Core.Records;

/// <summary>
/// The node-local store of <see cref="AttachmentRecord"/>s (files in production, see
/// <c>FileAttachmentRecordStore</c>; an in-memory fake in tests).
///
/// Locking: every change goes through an <see cref="IAttachmentRecordSession"/>, which holds the
/// store's own lock. Order rule, so nothing can deadlock: a caller may take the kernel lock (the
/// dataplane's and the routing's) while holding a session, never a session while in a kernel call.
/// </summary>
public interface IAttachmentRecordStore
{
    /// <summary>Where the records are (a directory), for messages.</summary>
    string Location { get; }

    /// <summary>Takes the store's lock until the session is disposed. Throws <see cref="DataplaneException"/> when the store cannot be used.</summary>
    IAttachmentRecordSession Open();

    /// <summary>
    /// Every readable record, without the lock (each record is replaced atomically, so a read never
    /// sees half a record). Records that cannot be read are skipped and described in <paramref name="problems"/>.
    /// </summary>
    IReadOnlyList<AttachmentRecord> ReadAll(ICollection<string> problems);
}

/// <summary>Changes to the record store under its lock.</summary>
public interface IAttachmentRecordSession : IDisposable
{
    /// <summary>The owner's record, or null when it is missing or unreadable.</summary>
    AttachmentRecord? Read(AttachmentOwner owner);

    /// <summary>Writes (or replaces) the owner's record atomically and durably.</summary>
    void Save(AttachmentRecord record);

    /// <summary>Removes the owner's record; nothing happens when there is none.</summary>
    void Delete(AttachmentOwner owner);

    /// <summary>GC: removes every record of <paramref name="network"/> whose owner is not in <paramref name="valid"/>; returns how many.</summary>
    int DeleteStale(string network, IReadOnlyCollection<AttachmentOwner> valid);

    /// <summary>
    /// Node-wide routing conflicts: records that <paramref name="network"/> routes <paramref name="mark"/> as
    /// <paramref name="route"/>, after checking that no other network that still has attachments routes a
    /// mark that can match the same packets, or the same table, differently. Returns that other network's
    /// claim when there is one (and then records nothing).
    /// </summary>
    RoutingClaim? Claim(string network, MarkSpec mark, RouteSpec route);
}

/// <summary>One network's routing of one mark, as ADD ensured it.</summary>
public sealed record RoutingClaim(string Network, uint Value, uint Mask, RouteSpec Route);
