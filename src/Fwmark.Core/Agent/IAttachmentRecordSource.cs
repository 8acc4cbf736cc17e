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
/// <param name="Path">How ADD keyed it: null or the address path means by <paramref name="Addresses"/>; a bridge port or
/// an input interface means by the host interface's name (the addresses are then not its key).</param>
public sealed record RecordedAttachment(string OwnerTag, MarkSpec Mark, IReadOnlyList<IPAddress> Addresses, Paths.AttachmentPath? Path = null)
{
    /// <summary>The host interface name when the attachment is keyed by interface, else null.</summary>
    public string? HostInterface => Path is { Keying: not Paths.MarkKeying.Address, HostInterface: { } name } ? name : null;
}

/// <summary>No record: restore only what the kernel held when it was lost.</summary>
public sealed class NoAttachmentRecord : IAttachmentRecordSource
{
    public static readonly NoAttachmentRecord Instance = new();

    public IReadOnlyList<RecordedAttachment> Attachments() => [];
}
