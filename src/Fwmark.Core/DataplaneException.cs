namespace Fwmark.Core;

/// <summary>What went wrong on the node, as far as the caller can act on it.</summary>
public enum DataplaneFailure
{
    /// <summary>The kernel cannot be programmed at all (a netlink family it does not offer).</summary>
    Unavailable,

    /// <summary>Another invocation holds the node lock longer than we wait: retrying later can succeed.</summary>
    Busy,

    /// <summary>The node holds state that this build did not make and will not overwrite.</summary>
    Conflict,

    /// <summary>The kernel or the system refused a request (errno, malformed reply, I/O).</summary>
    Failed,
}

/// <summary>
/// A failure of an <see cref="IDataplane"/> or <see cref="Routing.IRouting"/> backend, worded
/// "failed to &lt;what&gt;: &lt;cause&gt;". The backend says what kind of failure it is; which CNI
/// error code that becomes is <see cref="FwmarkPlugin"/>'s decision, so the kernel layer knows nothing of CNI.
/// </summary>
public sealed class DataplaneException(DataplaneFailure kind, string message, string? details = null, Exception? inner = null)
    : Exception(message, inner)
{
    public DataplaneFailure Kind { get; } = kind;

    /// <summary>Longer explanation for an operator: errno names, kernel extended-ACK text, the refused transaction.</summary>
    public string? Details { get; } = details;
}
