using System.Net;

namespace Fwmark.Linux.NfTables;

/// <summary>A map element as read back from the kernel; <see cref="GotoChain"/> is null for other verdicts.</summary>
internal sealed record NftElementInfo(IPAddress Key, uint VerdictCode, string? GotoChain, string? Comment);
