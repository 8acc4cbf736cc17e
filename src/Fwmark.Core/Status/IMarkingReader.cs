using Fwmark.Core.Paths;

namespace Fwmark.Core.Status;

/// <summary>
/// Read-only access to what marks packets in the current network namespace: the plugin's table with every
/// element and its counter, and the state of links. The Linux layer implements it over nf_tables and
/// rtnetlink dumps; tests use fakes. Nothing here writes or takes the plugin's lock.
/// </summary>
public interface IMarkingReader
{
    /// <summary>The plugin's table as it is now. Throws <see cref="DataplaneException"/> when nf_tables cannot be read.</summary>
    MarkingSnapshot Read();

    /// <summary>Whether interface <paramref name="name"/> exists and is administratively up; null when it does not exist.</summary>
    bool? LinkUp(string name);
}

/// <summary>The plugin's tables: whether `inet fwmark` exists, the marks it has sets for, and every element of those sets and of the bridge table's port sets.</summary>
/// <param name="Counters">False when some set of the tables was made without per-element counters (an older fwmark).</param>
public sealed record MarkingSnapshot(bool TableExists, IReadOnlyList<MarkSpec> Marks, IReadOnlyList<MarkedElement> Elements, bool Counters)
{
    public static readonly MarkingSnapshot Empty = new(false, [], [], true);
}

/// <summary>What an element is keyed by: a source address, or (interface-keyed marking) an interface name.</summary>
public enum MarkedKeyKind
{
    IPv4,
    IPv6,
    Interface,
}

/// <summary>
/// One element of a mark set: which mark (value/mask/connmark, from the set's name) it selects, its key, the
/// owner tag in its comment, and its counter (null when its set has none).
/// </summary>
public sealed record MarkedElement(MarkSpec Mark, string Set, MarkedKeyKind Kind, string Key, string? Comment, ElementCounter? Counter)
{
    /// <summary>
    /// Which path's set holds it: an address set, the bridge table's port set or the inet table's routed-interface
    /// set. An interface key counts as an attachment's key only in the set of the path its record names.
    /// </summary>
    public MarkKeying Keying { get; init; } = MarkKeying.Address;
}

/// <summary>Packets and bytes a kernel counter saw since it was created.</summary>
public sealed record ElementCounter(ulong Packets, ulong Bytes);
