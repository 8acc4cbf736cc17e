using Fwmark.Core.Records;

namespace Fwmark.Core.Agent;

/// <summary>
/// The agent's restore reads the durable attachment records (docs/records.md): an attachment whose elements were
/// lost before the agent saw them (a flush while it was not running, a pod added a moment before a flush) is put
/// back from its record, under the key ADD used (addresses, or the host interface's name). Unreadable records are skipped, never fatal: the mirror of the kernel still restores.
/// </summary>
public sealed class RecordStoreSource(IAttachmentRecordStore store) : IAttachmentRecordSource
{
    public IReadOnlyList<RecordedAttachment> Attachments()
    {
        try
        {
            return [.. store.ReadAll(new List<string>()).Select(r => new RecordedAttachment(r.Owner.Tag, r.Mark, r.Addresses, r.Path))];
        }
        catch (Exception e) when (e is DataplaneException or IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
