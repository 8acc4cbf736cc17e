namespace Fwmark.Linux.Netlink;

/// <summary>
/// A netlink buffer that breaks the framing rules (a length that is too small, runs past its
/// container, or a value of the wrong size). The reader throws only this, never an index error.
/// </summary>
public sealed class NetlinkFormatException(string message) : Exception(message);
