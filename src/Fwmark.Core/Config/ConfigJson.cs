using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Core.Config;

/// <summary>How config problems quote JSON: paths like <c>marks["a b"].mask</c> and values as written.</summary>
internal static class ConfigJson
{
    /// <summary>Long values (a whole route object) are cut so one problem stays one readable line.</summary>
    private const int MaxValueChars = 60;

    // Messages are plain text for operators, not HTML: keep '+', '<', non-ASCII names readable.
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Member(string parent, string key)
    {
        var plain = key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
        var step = plain ? "." + key : $"[{Quote(key)}]";
        return parent.Length == 0 && plain ? key : parent + step;
    }

    /// <summary>A JSON string literal of <paramref name="text"/>, cut when long (a 1 MB annotation is not echoed whole).</summary>
    public static string Quote(string text) => JsonValue.Create(Cni.Text.Cut(text)).ToJsonString(Relaxed);

    /// <summary>The value as the user wrote it (numbers keep their original text, e.g. <c>16.0</c>).</summary>
    public static string Render(JsonNode? node)
    {
        var text = node is null ? "null" : node.ToJsonString(Relaxed);
        return text.Length <= MaxValueChars ? text : text[..(MaxValueChars - 3)] + "...";
    }

    /// <summary>
    /// A boolean key: absent or null means <paramref name="absent"/>; anything but true or false is a
    /// problem at <paramref name="path"/> and reads as <paramref name="absent"/> with
    /// <paramref name="valid"/> false. The one parser of every boolean key of the config.
    /// </summary>
    public static bool Boolean(string path, JsonNode? node, bool absent, ConfigProblems problems, out bool valid)
    {
        valid = true;
        switch (node?.GetValueKind())
        {
            case null:
                return absent;
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                problems.Invalid(path, $"{Render(node)} is not a boolean (expected true or false)");
                valid = false;
                return absent;
        }
    }
}
