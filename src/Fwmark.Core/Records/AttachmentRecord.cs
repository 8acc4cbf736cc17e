using System.Net;
using Fwmark.Core.Paths;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Records;

/// <summary>
/// What one successful ADD made, kept on the node so it can be made again after the kernel lost it
/// (<c>nft flush ruleset</c>, a firewall reload). A restore source only: which attachment owns a
/// kernel element is decided by the element's owner tag, never by a record.
/// </summary>
/// <param name="Owner">(network, container ID, ifname): the attachment.</param>
/// <param name="Addresses">The addresses ADD marked (the interface's addresses from prevResult).</param>
/// <param name="Mark">The mark as ADD applied it (name, value, mask, connmark).</param>
/// <param name="Route">The mark's <c>route</c> at ADD time, or null when the mark had none.</param>
/// <param name="PodNamespace">K8S_POD_NAMESPACE from CNI_ARGS, when the runtime sent it.</param>
/// <param name="PodName">K8S_POD_NAME from CNI_ARGS, when the runtime sent it.</param>
/// <param name="RecordedAt">When ADD wrote the record (UTC); the newest record of an address wins.</param>
public sealed record AttachmentRecord(
    AttachmentOwner Owner,
    IReadOnlyList<IPAddress> Addresses,
    MarkSpec Mark,
    RouteSpec? Route,
    string? PodNamespace,
    string? PodName,
    DateTimeOffset RecordedAt)
{
    /// <summary>
    /// The kernel's boot ID when the record was written (set by the store). A record of an earlier boot
    /// describes an attachment that cannot exist any more and is never restored.
    /// </summary>
    public string? BootId { get; init; }

    /// <summary>
    /// The interface path ADD keyed the attachment by (bridge port or input interface, with the host veth's
    /// name), so a restore makes the same key again; null on the address path (and in records that predate it).
    /// </summary>
    public AttachmentPath? Path { get; init; }

    /// <summary>What the attachment is keyed by: "if:NAME" on an interface path, else each address. The newest record of a key owns it.</summary>
    public IReadOnlyList<string> Keys => Path is { HostInterface: { } name } ? [$"if:{name}"] : [.. Addresses.Select(a => a.ToString())];
}
