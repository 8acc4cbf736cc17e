using System.Net;
using Fwmark.Core.Paths;

namespace Fwmark.Core;

/// <summary>
/// The packet-marking backend (nftables in production, a fake in tests). Each mutating call is one
/// atomic kernel transaction and is serialised against concurrent invocations by the implementation.
/// Failures are thrown as <see cref="DataplaneException"/>; <see cref="FwmarkPlugin"/> picks the CNI code.
/// </summary>
public interface IDataplane
{
    /// <summary>
    /// Marks the packets of <paramref name="target"/> with <paramref name="mark"/>, owned by <paramref name="owner"/>:
    /// everything entering from its host-side interface on an interface path, its addresses on the address path.
    /// Idempotent. A key currently owned by another attachment (IP or interface-name reuse) is taken over, and
    /// whatever this owner holds under the other kind of key (a path change) is removed in the same transaction.
    /// Creates the shared structure (tables, base chains, sets, the mark's chains) when missing.
    /// </summary>
    void InstallTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark);

    /// <summary>
    /// Removes what <paramref name="owner"/> installed. With <paramref name="keys"/> only those keys are
    /// looked at (cheap); with null every element is scanned for the owner's tag.
    /// Elements owned by someone else are never touched. Succeeds when there is nothing to remove.
    /// </summary>
    void RemoveKeys(AttachmentOwner owner, AttachmentKeys? keys);

    /// <summary>Problems found (empty = all good): missing structure, missing/foreign/wrong-mark elements.</summary>
    IReadOnlyList<string> VerifyTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark);

    /// <summary>
    /// Removes every element of <paramref name="network"/> whose owner is not in <paramref name="valid"/>.
    /// Returns how many elements were removed.
    /// </summary>
    int Collect(string network, IReadOnlyCollection<AttachmentOwner> valid);

    /// <summary>Throws when the kernel cannot be programmed at all (STATUS).</summary>
    void Probe();
}

/// <summary>The address path spelled with plain address lists (tools and tests).</summary>
public static class DataplaneAddressExtensions
{
    public static void Install(this IDataplane dataplane, AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark) =>
        dataplane.InstallTarget(owner, MarkTarget.ByAddress(addresses), mark);

    public static void Remove(this IDataplane dataplane, AttachmentOwner owner, IReadOnlyList<IPAddress>? addresses) =>
        dataplane.RemoveKeys(owner, addresses is null ? null : new AttachmentKeys(addresses, []));

    public static IReadOnlyList<string> Verify(this IDataplane dataplane, AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark) =>
        dataplane.VerifyTarget(owner, MarkTarget.ByAddress(addresses), mark);
}
