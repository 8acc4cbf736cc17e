using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Cni;

/// <summary>
/// stdin must be text all the way down. The JSON reader accepts invalid UTF-8 inside strings and
/// "\ud800"-style escapes of lone surrogates, and fails only when such a string is decoded or written
/// out again: for a pass-through prevResult field that was after the kernel had been programmed, as
/// code 999 with a resource key for a message. <see cref="CniConfigDecoder"/> checks every key and
/// string once, before the plugin runs, so such input is refused with code 6 and nothing done.
/// </summary>
internal static class TextValidation
{
    private const string Surrogate = "holds a lone UTF-16 surrogate (an escape such as \\ud800 that is not half of a pair), which is not text";

    private const string Utf8 = "is not valid UTF-8 (stdin must be UTF-8 text)";

    /// <summary>"&lt;json path&gt;: what is wrong" for the first key or string that is not text; null when all is text.</summary>
    public static string? Problem(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject obj:
                List<KeyValuePair<string, JsonNode?>> members;
                try
                {
                    members = [.. obj];
                }
                catch (InvalidOperationException)
                {
                    return $"{Where(path)}: a key {Utf8}";
                }

                foreach (var (key, value) in members)
                {
                    if (!IsText(key))
                    {
                        return $"{Where(path)}: a key {Surrogate}";
                    }

                    if (Problem(value, path.Length == 0 ? key : $"{path}.{key}") is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (Problem(array[i], $"{path}[{i}]") is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                string text;
                try
                {
                    text = value.GetValue<string>();
                }
                catch (InvalidOperationException)
                {
                    return $"{Where(path)}: the string {Utf8}";
                }

                return IsText(text) ? null : $"{Where(path)}: the string {Surrogate}";
            default:
                return null;
        }
    }

    private static string Where(string path) => path.Length == 0 ? "the config" : Text.Cut(path);

    private static bool IsText(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }

        return true;
    }
}
