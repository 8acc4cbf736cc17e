using System.Net;

namespace Fwmark.Core;

/// <summary>
/// The packet-marking backend (nftables in production, a fake in tests). Each mutating call is one
/// atomic kernel transaction and is serialised against concurrent invocations by the implementation.
/// Failures are thrown as <see cref="DataplaneException"/>; <see cref="FwmarkPlugin"/> picks the CNI code.
/// </summary>
public interface IDataplane
{
    /// <summary>
    /// Marks packets from each address with <paramref name="mark"/>, owned by <paramref name="owner"/>.
    /// Idempotent. An address currently owned by another attachment (IP reuse) is taken over.
    /// Creates the shared structure (table, base chain, address sets, the mark's chain) when missing.
    /// </summary>
    void Install(AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark);

    /// <summary>
    /// Removes what <paramref name="owner"/> installed. With <paramref name="addresses"/> only those
    /// keys are looked at (cheap); with null every element is scanned for the owner's tag.
    /// Elements owned by someone else are never touched. Succeeds when there is nothing to remove.
    /// </summary>
    void Remove(AttachmentOwner owner, IReadOnlyList<IPAddress>? addresses);

    /// <summary>Problems found (empty = all good): missing structure, missing/foreign/wrong-mark elements.</summary>
    IReadOnlyList<string> Verify(AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark);

    /// <summary>
    /// Removes every element of <paramref name="network"/> whose owner is not in <paramref name="valid"/>.
    /// Returns how many elements were removed.
    /// </summary>
    int Collect(string network, IReadOnlyCollection<AttachmentOwner> valid);

    /// <summary>Throws when the kernel cannot be programmed at all (STATUS).</summary>
    void Probe();
}
