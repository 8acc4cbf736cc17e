using System.Net;

namespace Fwmark.Linux.NfTables;

/// <summary>A set element as read back from the kernel: its address and its comment.</summary>
internal sealed record NftElementInfo(IPAddress Key, string? Comment);
