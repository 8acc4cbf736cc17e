using Fwmark.Cni;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Session;

/// <summary>
/// How failures of this layer reach the runtime: as <see cref="CniException"/>s shaped
/// "failed to &lt;what&gt;: &lt;cause&gt;", with errno names and kernel ext-ack text in details.
/// </summary>
internal static class LinuxErrors
{
    public static CniException ToCni(string what, Exception e) => e switch
    {
        CniException cni => cni,
        NetlinkException n => new CniException(CniErrorCodes.IoFailure, $"failed to {what}: {n.Message}", n.Details),
        // Lock and namespace failures already read "failed to lock ..." / "failed to open network namespace ...".
        TimeoutException t => new CniException(CniErrorCodes.TryAgainLater, t.Message, $"while trying to {what}"),
        IOException or UnauthorizedAccessException => new CniException(CniErrorCodes.IoFailure, e.Message, $"while trying to {what}"),
        NetlinkFormatException f => new CniException(CniErrorCodes.IoFailure, $"failed to {what}: malformed netlink reply: {f.Message}"),
        _ => new CniException(CniErrorCodes.Internal, $"failed to {what}: {e.Message}", e.ToString()),
    };
}
