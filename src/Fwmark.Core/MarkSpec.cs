namespace Fwmark.Core;

/// <summary>
/// A named mark from the config: packets get <c>mark = (mark &amp; ~Mask) | Value</c>.
/// Invariants (checked by the config parser): Mask != 0 and (Value &amp; ~Mask) == 0.
/// </summary>
public sealed record MarkSpec(string Name, uint Value, uint Mask)
{
    /// <summary>
    /// The config's top-level <c>connmark</c>: this mark's flows are saved to conntrack and restored on
    /// replies. The dataplane gives such a mark a chain of its own, because that chain then holds one
    /// more rule, and one (value, mask) may be used by networks with and without connmark at the same
    /// time. Default false.
    /// </summary>
    public bool Connmark { get; init; }
}
