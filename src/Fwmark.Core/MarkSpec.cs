namespace Fwmark.Core;

/// <summary>
/// A named mark from the config: packets get <c>mark = (mark &amp; ~Mask) | Value</c>.
/// Invariants (checked by the config parser): Mask != 0 and (Value &amp; ~Mask) == 0.
/// </summary>
public sealed record MarkSpec(string Name, uint Value, uint Mask)
{
    /// <summary>The nftables chain that applies this (value, mask); shared by every network using it.</summary>
    public string ChainName => $"mark-{Value:x8}-{Mask:x8}";
}
