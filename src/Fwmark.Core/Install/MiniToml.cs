namespace Fwmark.Core.Install;

/// <summary>
/// The part of TOML that containerd's config.toml and containers.conf use for the keys the installer
/// reads: <c>[table."quoted.part"]</c> headers, <c>key = "string"</c> / <c>'literal'</c>, and arrays of strings
/// (also over several lines), with comments. Everything else (numbers, booleans, inline tables, dotted
/// keys) is skipped, not rejected: those files hold much more than we read, and a full parser would be a
/// dependency of the plugin binary for three keys. Keys are "table.key" with the header parts joined by '.'.
/// </summary>
public static class MiniToml
{
    public static Dictionary<string, TomlValue> Parse(string text)
    {
        var values = new Dictionary<string, TomlValue>(StringComparer.Ordinal);
        var table = "";
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = StripComment(lines[i]).Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith('['))
            {
                table = string.Join('.', HeaderParts(line.Trim('[', ']').Trim()));
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }

            var key = Unquote(line[..eq].Trim());
            var raw = line[(eq + 1)..].Trim();
            if (raw.StartsWith('['))
            {
                // An array may go on over the next lines until its closing bracket.
                while (!raw.TrimEnd().EndsWith(']') && i + 1 < lines.Length)
                {
                    raw += " " + StripComment(lines[++i]).Trim();
                }

                values[Join(table, key)] = new TomlValue(null, Strings(raw.Trim().TrimStart('[').TrimEnd(']')));
            }
            else if (raw.StartsWith('"') || raw.StartsWith('\''))
            {
                values[Join(table, key)] = new TomlValue(Unquote(raw), null);
            }
        }

        return values;
    }

    private static string Join(string table, string key) => table.Length == 0 ? key : $"{table}.{key}";

    private static IEnumerable<string> HeaderParts(string header)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        foreach (var c in header)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '.' && !quoted)
            {
                parts.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        parts.Add(current.ToString().Trim());
        return parts;
    }

    private static List<string> Strings(string inner)
    {
        var items = new List<string>();
        foreach (var item in inner.Split(','))
        {
            var trimmed = item.Trim();
            if (trimmed.Length >= 2 && (trimmed[0] == '"' || trimmed[0] == '\''))
            {
                items.Add(Unquote(trimmed));
            }
        }

        return items;
    }

    private static string Unquote(string text)
    {
        if (text.Length >= 2 && (text[0] == '"' || text[0] == '\''))
        {
            var end = text.IndexOf(text[0], 1);
            return end > 0 ? text[1..end] : text[1..];
        }

        return text;
    }

    // A '#' inside a quoted string is not a comment.
    private static string StripComment(string line)
    {
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is null && c == '#')
            {
                return line[..i];
            }

            if (c is '"' or '\'')
            {
                quote = quote == c ? null : quote ?? c;
            }
        }

        return line;
    }
}

/// <summary>A string or an array of strings (the only values <see cref="MiniToml"/> keeps).</summary>
public sealed record TomlValue(string? Text, IReadOnlyList<string>? Items);
