namespace Fwmark.Core.Routing;

/// <summary>
/// The node's policy routing for marks that have a <see cref="RouteSpec"/> (rtnetlink in production, a
/// fake in tests). For each IP family: rule <c>P fwmark V/M lookup main suppress_prefixlength 0</c>,
/// rule <c>P+1 fwmark V/M lookup T</c>, the default route in T and (fail closed) an unreachable default
/// in T. These objects are node-wide and shared by every attachment of the mark, so nothing here is
/// ever removed on DEL.
/// </summary>
public interface IRouting
{
    /// <summary>
    /// Makes the rules and routes of <paramref name="mark"/> match <paramref name="route"/>. Idempotent and
    /// cheap when everything is already there. Returns warnings: parts that cannot exist right now but
    /// leave marked traffic fail-closed, e.g. the default route of a VPN device that is missing or down.
    /// Throws <see cref="DataplaneException"/> when a rule or the fail-closed route cannot be made.
    /// </summary>
    IReadOnlyList<string> Ensure(MarkSpec mark, RouteSpec route);

    /// <summary>What differs from what <see cref="Ensure"/> makes, one line per object (empty = all there). Read-only.</summary>
    IReadOnlyList<string> Verify(MarkSpec mark, RouteSpec route);
}
