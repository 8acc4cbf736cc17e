using System.Net;

namespace Fwmark.Core.Agent;

/// <summary>
/// Where the agent's restore learns which attachments exist besides what the kernel and its guard
/// table hold: the durable attachment record (issue 8, item 1) plugs in here. Until then the agent
/// uses <see cref="NoAttachmentRecord"/> and restores from its mirror of the plugin's sets alone.
/// </summary>
public interface IAttachmentRecordSource
{
    /// <summary>The recorded attachments that are marked (an unreadable record reads as none: it never blocks a restore).</summary>
    IReadOnlyList<RecordedAttachment> Attachments();
}

/// <param name="OwnerTag">The element comment, <see cref="AttachmentOwner.Tag"/>.</param>
public sealed record RecordedAttachment(string OwnerTag, MarkSpec Mark, IReadOnlyList<IPAddress> Addresses);

/// <summary>No record: restore only what the kernel held when it was lost.</summary>
public sealed class NoAttachmentRecord : IAttachmentRecordSource
{
    public static readonly NoAttachmentRecord Instance = new();

    public IReadOnlyList<RecordedAttachment> Attachments() => [];
}
