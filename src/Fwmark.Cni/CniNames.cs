using System.Text;

namespace Fwmark.Cni;

/// <summary>
/// The identifier rules libcni enforces (its utils package). Each check returns why a value is
/// invalid, or null when it is fine, so callers can collect every problem before failing.
/// </summary>
internal static class CniNames
{
    /// <summary>Linux IFNAMSIZ is 16 bytes including the terminating NUL.</summary>
    public const int MaxIfNameBytes = 15;

    /// <summary>Container IDs and network names: <c>^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$</c>.</summary>
    public static string? IdentifierProblem(string value)
    {
        if (value.Length == 0)
        {
            return "must not be empty";
        }

        if (!char.IsAsciiLetterOrDigit(value[0]))
        {
            return "must start with a letter or digit";
        }

        var bad = value.FirstOrDefault(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'));
        return bad == default ? null : "may only contain letters, digits, '_', '.' and '-'";
    }

    /// <summary>
    /// An interface name: libcni's rule, which is the kernel's (dev_valid_name). The one rule for every
    /// interface name fwmark reads: CNI_IFNAME and the route's device.
    /// </summary>
    public static string? IfNameProblem(string value)
    {
        if (value.Length == 0)
        {
            return "must not be empty";
        }

        if (Encoding.UTF8.GetByteCount(value) > MaxIfNameBytes)
        {
            return $"is longer than {MaxIfNameBytes} bytes";
        }

        if (value is "." or "..")
        {
            return "must not be '.' or '..'";
        }

        // The kernel's dev_valid_name also refuses NUL, which no environment variable can carry anyway.
        return value.Any(c => c is '/' or ':' or '\0' || char.IsWhiteSpace(c))
            ? "must not contain '/', ':' or white space"
            : null;
    }
}
