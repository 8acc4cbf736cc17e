using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Core.Config;

/// <summary>
/// Reads a 32-bit mark or mask: a JSON integer 0..4294967295, or a string in decimal or <c>0x</c> hex.
/// Strings exist because operators think of marks in hex and JSON has no hex literals.
/// </summary>
internal static class MarkNumber
{
    private const string Range = "0..4294967295";

    /// <summary>Returns the value, or null with <paramref name="problem"/> saying why (to follow the rendered value).</summary>
    public static uint? Read(JsonNode? node, out string problem)
    {
        problem = "";
        switch (node?.GetValueKind())
        {
            case JsonValueKind.Number:
                // The raw text, not a double: 4294967296 or 1.5 must be refused, not rounded.
                var text = node.ToJsonString();
                if (!IsDigits(text.StartsWith('-') ? text[1..] : text))
                {
                    problem = "is not an integer (expected " + Range + ")";
                    return null;
                }

                return InRange(BigInteger.Parse(text, CultureInfo.InvariantCulture), out problem);

            case JsonValueKind.String:
                var s = node.GetValue<string>();
                if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.Length > 2 && s[2..].All(char.IsAsciiHexDigit))
                {
                    // Leading "0" keeps BigInteger from reading the top hex digit as a sign bit.
                    return InRange(BigInteger.Parse("0" + s[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture), out problem);
                }

                if (IsDigits(s))
                {
                    return InRange(BigInteger.Parse(s, CultureInfo.InvariantCulture), out problem);
                }

                problem = "is not a number (expected decimal digits or 0x followed by hex digits)";
                return null;

            default:
                problem = "is not a number or a string (expected " + Range + ", as a number, decimal string or 0x hex string)";
                return null;
        }
    }

    private static uint? InRange(BigInteger value, out string problem)
    {
        if (value < uint.MinValue || value > uint.MaxValue)
        {
            problem = "is out of range (expected " + Range + ")";
            return null;
        }

        problem = "";
        return (uint)value;
    }

    private static bool IsDigits(string s) => s.Length > 0 && s.All(char.IsAsciiDigit);
}
