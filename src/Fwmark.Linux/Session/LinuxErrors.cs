using Fwmark.Core;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Session;

/// <summary>
/// How failures of this layer leave it: as <see cref="DataplaneException"/>s shaped
/// "failed to &lt;what&gt;: &lt;cause&gt;", with errno names and kernel ext-ack text in details and a
/// <see cref="DataplaneFailure"/> kind. Anything else is a bug and stays one (the CNI dispatcher
/// reports it as an internal error), with the operation named.
/// </summary>
internal static class LinuxErrors
{
    public static Exception Translate(string what, Exception e) => e switch
    {
        DataplaneException known => known,
        // nf_tables failures carry the refused transaction as nft script text.
        NftException n => new DataplaneException(DataplaneFailure.Failed, n.Message,
            n.Script is null ? n.Cause.Details : $"{n.Cause.Details}\ntransaction:\n{n.Script}", n),
        NetlinkException n => new DataplaneException(KindOf(n), $"failed to {what}: {n.Message}", n.Details, n),
        // Every attempt lost the race to another writer's commit: retrying later can succeed.
        NftGenerationChangedException g => new DataplaneException(DataplaneFailure.Busy,
            $"failed to {what}: another program kept changing the nftables ruleset ({GenerationChecked.MaxAttempts} attempts)",
            $"{g.Message}; retry later, or find the program that rewrites the ruleset in a loop", g),
        // Lock and namespace failures already read "failed to lock ..." / "failed to open network namespace ...".
        TimeoutException t => new DataplaneException(DataplaneFailure.Busy, t.Message, $"while trying to {what}", t),
        IOException or UnauthorizedAccessException => new DataplaneException(DataplaneFailure.Failed, e.Message, $"while trying to {what}", e),
        NetlinkFormatException f => new DataplaneException(DataplaneFailure.Failed, $"failed to {what}: malformed netlink reply: {f.Message}", inner: f),
        _ => new InvalidOperationException($"failed to {what}: {e.Message}", e),
    };

    /// <summary>A kernel without the netlink family (nf_tables not built or loaded) cannot be programmed at all.</summary>
    private static DataplaneFailure KindOf(NetlinkException n) =>
        n.Syscall == "socket" && n.Errno is Errno.EPROTONOSUPPORT or Errno.EAFNOSUPPORT
            ? DataplaneFailure.Unavailable
            : DataplaneFailure.Failed;
}
