using System.Text.Json;

namespace Fwmark.Cni;

/// <summary>
/// A JSON syntax error as one plain sentence that says where: "'}' is invalid after a property name
/// (line 3, byte 14)". .NET's own text ends in "Path: $ | LineNumber: 2 | BytePositionInLine: 13.",
/// counted from 0, and a build with UseSystemResourceKeys shows only a resource key such as
/// "ExpectedSeparatorAfterPropertyNameNotFound": neither is for an operator.
/// </summary>
public static class JsonProblem
{
    public static string Describe(JsonException e)
    {
        var cause = e.Message;
        foreach (var tail in new[] { " Path:", " LineNumber:", "Path:", "LineNumber:" })
        {
            var at = cause.IndexOf(tail, StringComparison.Ordinal);
            if (at >= 0)
            {
                cause = cause[..at];
            }
        }

        cause = cause.Trim().TrimEnd('.');
        if (cause.Length == 0 || IsResourceKey(cause))
        {
            cause = "the text is not valid JSON";
        }

        return e.LineNumber is { } line
            ? $"{Text.Cut(cause)} (line {line + 1}, byte {(e.BytePositionInLine ?? 0) + 1})"
            : Text.Cut(cause);
    }

    /// <summary>"ArrayDepthTooLarge, 64": a CamelCase word without spaces, maybe followed by arguments.</summary>
    internal static bool IsResourceKey(string message)
    {
        var token = message.Split(',')[0].Trim();
        return token.Length > 0 && token.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && token.Skip(1).Any(char.IsAsciiLetterUpper);
    }
}
