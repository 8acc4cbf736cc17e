using System.IO.Hashing;
using System.Text;

namespace Fwmark.Core;

/// <summary>
/// Who owns a kernel object: one attachment = (network, container ID, ifname). Every per-attachment
/// element carries <see cref="Tag"/> so DEL and GC only ever remove what that attachment created,
/// even after its IP was handed to another pod. The tag starts with fixed-width hashes (so a
/// long network name can never make two owners look alike) followed by a readable tail.
/// </summary>
public sealed record AttachmentOwner(string Network, string ContainerId, string IfName)
{
    /// <summary>nftables comments (element userdata) are at most 128 bytes including the NUL.</summary>
    public const int MaxTagBytes = 127;

    /// <summary>8 hex chars identifying the network (used by GC to find "this network's" elements).</summary>
    public string NetworkKey => Hex(Network, 8);

    /// <summary>16 hex chars identifying (network, container ID, ifname).</summary>
    public string Key => Hex($"{Network}\0{ContainerId}\0{IfName}", 16);

    /// <summary>"&lt;NetworkKey&gt;.&lt;Key&gt; &lt;network&gt;/&lt;container&gt;/&lt;ifname&gt;", cut to <see cref="MaxTagBytes"/>.</summary>
    public string Tag
    {
        get
        {
            var full = $"{NetworkKey}.{Key} {Network}/{ContainerId}/{IfName}";
            return Encoding.UTF8.GetByteCount(full) <= MaxTagBytes ? full : Truncate(full);
        }
    }

    /// <summary>Reads the two keys back from a tag; false when the text is not one of our tags.</summary>
    public static bool TryParseTag(string tag, out string networkKey, out string key)
    {
        networkKey = key = "";
        if (tag.Length < 25 || tag[8] != '.' || (tag.Length > 25 && tag[25] != ' '))
        {
            return false;
        }

        networkKey = tag[..8];
        key = tag[9..25];
        return IsHex(networkKey) && IsHex(key);
    }

    /// <summary>
    /// <see cref="TryParseTag"/> followed by a comparison of the key with <paramref name="key"/>, without allocating:
    /// DEL without prevResult asks it of every element of every set.
    /// </summary>
    public static bool TagHasKey(string tag, string key) =>
        tag.Length >= 25 && tag[8] == '.' && (tag.Length == 25 || tag[25] == ' ')
        && key.Length == 16 && tag.AsSpan(9, 16).SequenceEqual(key)
        && !tag.AsSpan(0, 8).ContainsAnyExcept(LowerHex) && !key.AsSpan().ContainsAnyExcept(LowerHex);

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>
    /// Whether an element tagged <paramref name="tag"/> belongs to <paramref name="network"/> (GC's
    /// question). The 8-hex network key alone could collide between two names (1 in 2^32), so the
    /// readable tail's network name is compared too whenever the tail still holds it in full
    /// (network names cannot contain '/').
    /// </summary>
    public static bool TagBelongsTo(string tag, string network)
    {
        if (!TryParseTag(tag, out var networkKey, out _) || networkKey != new AttachmentOwner(network, "", "").NetworkKey)
        {
            return false;
        }

        var tail = tag.Length > 26 ? tag[26..] : "";
        var slash = tail.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 || tail[..slash] == network;
    }

    // XXH3-64 (seed 0): a specified, stable algorithm — these keys live in the kernel across plugin
    // upgrades, so changing it would orphan existing elements. Not SHA-256: on Linux .NET hashes
    // through OpenSSL, whose load and config parsing cost ~3 ms per exec (docs/benchmarks.md).
    // Collisions need not resist an adversary: container IDs and ifnames come from the runtime.
    private static string Hex(string text, int chars) =>
        XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(text)).ToString("x16")[..chars];

    private static bool IsHex(string s) => s.All(char.IsAsciiHexDigitLower);

    private static string Truncate(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        var n = MaxTagBytes;
        while (n > 0 && (bytes[n] & 0xC0) == 0x80)
        {
            n--; // never cut a UTF-8 sequence in half
        }

        return Encoding.UTF8.GetString(bytes, 0, n);
    }
}
