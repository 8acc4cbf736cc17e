namespace Fwmark.Core.Agent;

/// <summary>
/// How soon to try again after a repair that left the node not matching (a VPN device that is not back
/// yet, a busy lock): quickly at first, because the usual cause is a device coming up this instant and
/// recovery should take well under a second, then doubling up to <see cref="Max"/> so a VPN that stays
/// away costs a verify every few seconds, not a busy loop. Success resets it.
/// </summary>
public sealed class RetryBackoff(TimeSpan first, TimeSpan max)
{
    private TimeSpan? _next;

    public TimeSpan First { get; } = first;

    public TimeSpan Max { get; } = max;

    /// <summary>Consecutive failures since the last success.</summary>
    public int Failures { get; private set; }

    /// <summary>The delay before the next attempt after a failure now.</summary>
    public TimeSpan Failed()
    {
        Failures++;
        var delay = _next ?? First;
        _next = delay * 2 > Max ? Max : delay * 2;
        return delay;
    }

    public void Succeeded()
    {
        Failures = 0;
        _next = null;
    }
}
