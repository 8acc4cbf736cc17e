using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Fwmark.Cni;

/// <summary>
/// IP address text as strict as Go's net.ParseIP: a dotted quad or an IPv6 address, nothing else.
/// <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> alone also takes "10.1" (as 10.0.0.1),
/// "0x0a.1", plain integers, "[::1]" and zone ids: in a config or a result a typo must be an error,
/// never a different address.
/// </summary>
public static class StrictIp
{
    public static bool TryParse(string text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return text.IndexOfAny(['%', '[']) < 0
                && IPAddress.TryParse(text, out address)
                && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        var parts = text.Split('.');
        return parts.Length == 4
            && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p) <= 255)
            && IPAddress.TryParse(text, out address);
    }
}
