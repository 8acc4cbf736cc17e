namespace Fwmark.Linux.Rtnetlink;

/// <summary>
/// A FIB rule <c>pref P fwmark V/M lookup TABLE [suppress_prefixlength N]</c> of one family, the only
/// shape fwmark makes. <see cref="Describe"/> is valid `ip rule add|del` syntax, so messages tell an
/// operator exactly what to type.
/// </summary>
internal sealed record PolicyRule(byte Family, uint Priority, uint Mark, uint Mask, uint Table, uint? SuppressPrefixLength)
{
    public string Describe()
    {
        var table = Table == RouteKind.TableMain ? "main" : Table.ToString();
        var suppress = SuppressPrefixLength is { } length ? $" suppress_prefixlength {length}" : "";
        return $"pref {Priority} fwmark 0x{Mark:x}/0x{Mask:x} lookup {table}{suppress}";
    }

    /// <summary>"IPv4 rule \"pref ...\"", for problems and errors.</summary>
    public override string ToString() => $"{Rtnl.FamilyName(Family)} rule \"{Describe()}\"";
}
