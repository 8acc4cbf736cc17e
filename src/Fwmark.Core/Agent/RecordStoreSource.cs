using Fwmark.Core.Records;

namespace Fwmark.Core.Agent;

/// <summary>
/// The agent's restore reads the durable attachment records (docs/records.md): an attachment whose elements were
/// lost before the agent saw them (a flush while it was not running, a pod added a moment before a flush) is put
/// back from its record (address-keyed attachments; the mirror and `fwmark reconcile` cover the others). Unreadable records are skipped, never fatal: the mirror of the kernel still restores.
/// </summary>
public sealed class RecordStoreSource(IAttachmentRecordStore store) : IAttachmentRecordSource
{
    public IReadOnlyList<RecordedAttachment> Attachments()
    {
        try
        {
            // Address-keyed records only: an interface-keyed attachment's addresses are not its key, and putting them
            // into the address sets would mark it a second way that its DEL and CHECK do not know of.
            return
            [
                .. store.ReadAll(new List<string>())
                    .Where(r => r.Path is null || r.Path.Keying == Paths.MarkKeying.Address)
                    .Select(r => new RecordedAttachment(r.Owner.Tag, r.Mark, r.Addresses)),
            ];
        }
        catch (Exception e) when (e is DataplaneException or IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
