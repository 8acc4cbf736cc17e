using System.Net;

namespace Fwmark.Linux.NfTables;

/// <summary>A set element as read back from the kernel: its address and its comment.</summary>
internal sealed record NftElementInfo(IPAddress Key, string? Comment)
{
    /// <summary>The element's own counter, when its set has a counter template; null otherwise.</summary>
    public NftCounter? Counter { get; init; }
}

/// <summary>What a counter expression reports: packets and bytes since it was created.</summary>
internal sealed record NftCounter(ulong Packets, ulong Bytes);
