using System.Net;

namespace Fwmark.Core.Paths;

/// <summary>
/// What Install marks for one attachment: on an interface path only the host-side interface is keyed
/// (every packet entering from it, whatever its source address); on the address path the addresses.
/// <see cref="Addresses"/> is always the attachment's addresses, for logs and so a path change can clean up.
/// </summary>
public sealed record MarkTarget(AttachmentPath Path, IReadOnlyList<IPAddress> Addresses)
{
    public static MarkTarget ByAddress(IReadOnlyList<IPAddress> addresses) =>
        new(AttachmentPath.ByAddress("addresses given directly"), addresses);

    public bool IsInterface => Path.Keying != MarkKeying.Address;
}

/// <summary>
/// The keys DEL can look up directly (cheap): the attachment's addresses and the host-side interface
/// names prevResult lists. Whichever path ADD took, its element is under one of them.
/// </summary>
public sealed record AttachmentKeys(IReadOnlyList<IPAddress> Addresses, IReadOnlyList<string> Interfaces);
