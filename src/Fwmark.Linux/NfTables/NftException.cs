using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// An nf_tables request or transaction that failed, worded "failed to &lt;what&gt;: &lt;cause&gt;".
/// For a refused batch <see cref="Operation"/> is the change the kernel rejected (the kernel has
/// then applied nothing) and <see cref="Script"/> the whole transaction as nft script.
/// </summary>
internal sealed class NftException(string what, NetlinkException cause, NftOperation? operation = null, string? script = null)
    : Exception($"failed to {what}: {cause.Message}", cause)
{
    public NetlinkException Cause { get; } = cause;

    public NftOperation? Operation { get; } = operation;

    public string? Script { get; } = script;
}
