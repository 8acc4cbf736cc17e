namespace Fwmark.Cni;

/// <summary>
/// A failure that must reach the runtime as CNI error JSON. Anything else thrown out of a plugin is
/// turned into code 999 by the dispatcher.
/// </summary>
public sealed class CniException(int code, string msg, string? details = null) : Exception(msg)
{
    public int Code { get; } = code;

    /// <summary>Longer explanation: errno, kernel extended-ACK text, every problem found.</summary>
    public string? Details { get; } = details;
}
