using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Cni;

/// <summary>JSON helpers shared by the protocol layer (System.Text.Json.Nodes only: AOT-safe, no reflection).</summary>
internal static class CniJson
{
    /// <summary>
    /// Compact output that a runtime reads, not a browser: keep quotes as \" and non-ASCII as UTF-8
    /// instead of the default encoder's \u0022-style escapes.
    /// </summary>
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    public static string Serialize(JsonNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            node.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The JSON kind of a value as a word for error messages ("string", "array", ...).</summary>
    public static string KindOf(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        var kind => kind.ToString()!.ToLowerInvariant(),
    };

    /// <summary>A string property; null when absent or JSON null; throws when it holds anything else.</summary>
    public static string? OptionalString(JsonObject obj, string key, string path)
    {
        var node = obj[key];
        return node switch
        {
            null => null,
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            _ => throw new FormatException($"{path}{key}: must be a string, got {KindOf(node)}"),
        };
    }
}
