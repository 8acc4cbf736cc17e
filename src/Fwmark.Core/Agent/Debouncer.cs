namespace Fwmark.Core.Agent;

/// <summary>
/// When to act on a burst of notifications: after <see cref="Quiet"/> without a new one (a flush or a
/// link flap comes as dozens of messages in a few milliseconds; acting once at the end costs one
/// repair, not dozens), but never later than <see cref="MaxDelay"/> after the first (a steady trickle
/// of unrelated changes must not postpone a repair forever). Pure: the caller passes the clock.
/// </summary>
public sealed class Debouncer(TimeSpan quiet, TimeSpan maxDelay)
{
    private DateTime? _first;
    private DateTime _last;

    public TimeSpan Quiet { get; } = quiet;

    public TimeSpan MaxDelay { get; } = maxDelay;

    public bool IsPending => _first is not null;

    /// <summary>A notification arrived at <paramref name="now"/>.</summary>
    public void Notify(DateTime now)
    {
        _first ??= now;
        _last = now;
    }

    /// <summary>When the pending work becomes due; null when nothing is pending.</summary>
    public DateTime? DueAt => _first is { } first ? Min(_last + Quiet, first + MaxDelay) : null;

    /// <summary>True (once) when the pending work is due at <paramref name="now"/>; the caller then does it.</summary>
    public bool TakeDue(DateTime now)
    {
        if (DueAt is not { } due || now < due)
        {
            return false;
        }

        _first = null;
        return true;
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;
}
