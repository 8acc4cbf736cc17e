namespace Fwmark.Cni;

/// <summary>Keeps user-supplied values in messages short: a 1 MB annotation must not come back as a 1 MB error.</summary>
public static class Text
{
    /// <summary>Longest piece of a user value quoted in a message.</summary>
    public const int MaxQuotedChars = 80;

    /// <summary>The text, or its first characters and "... (N characters)" when it is longer than <paramref name="max"/>.</summary>
    public static string Cut(string text, int max = MaxQuotedChars)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var n = max;
        if (char.IsHighSurrogate(text[n - 1]))
        {
            n--; // never split a surrogate pair
        }

        return $"{text[..n]}... ({text.Length} characters)";
    }
}
