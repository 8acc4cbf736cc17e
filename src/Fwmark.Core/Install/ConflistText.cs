using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Core.Install;

/// <summary>
/// Edits a conflist as text: finds the byte span of each element of its top-level "plugins" array with the
/// JSON reader and inserts, replaces or removes only the fwmark element's span. Every other byte of the file
/// stays as the primary wrote it (formatting, key order, unknown keys), and removing what
/// <see cref="Upsert"/> inserted gives back the original bytes exactly: the insertion is ", &lt;indent&gt;&lt;object&gt;"
/// right after the last element, and removal cuts from the end of the previous element to the end of ours.
/// </summary>
public static class ConflistText
{
    private sealed record Element(int Start, int End, JsonObject? Node)
    {
        public bool IsFwmark => Node?["type"] is JsonValue type && type.GetValueKind() == JsonValueKind.String && type.GetValue<string>() == "fwmark";
    }

    private sealed record Plugins(int ArrayStart, int ArrayEnd, List<Element> Elements);

    /// <summary>True when the conflist's chain has a plugin of type fwmark.</summary>
    public static bool HasFwmark(byte[] conflist) => Locate(conflist, "inspect").Elements.Any(e => e.IsFwmark);

    /// <summary>The fwmark plugin object of the chain, or null.</summary>
    public static JsonObject? FwmarkObject(byte[] conflist) => Locate(conflist, "inspect").Elements.FirstOrDefault(e => e.IsFwmark)?.Node;

    /// <summary>The conflist with <paramref name="plugin"/> as its fwmark element: replaced in place, or appended to the chain.</summary>
    public static byte[] Upsert(byte[] conflist, JsonObject plugin, string path)
    {
        var plugins = Locate(conflist, path);
        var ours = plugins.Elements.Where(e => e.IsFwmark).ToList();
        if (ours.Count > 1)
        {
            throw new InstallException($"failed to edit {path}: its chain has {ours.Count} fwmark plugins; leave one");
        }

        if (ours.Count == 1)
        {
            var existing = ours[0];
            var rendered = Render(plugin, IndentBefore(conflist, existing.Start));
            return Splice(conflist, existing.Start, existing.End, rendered);
        }

        if (plugins.Elements.Count == 0)
        {
            throw new InstallException($"failed to edit {path}: its \"plugins\" list is empty; fwmark must follow a main plugin");
        }

        var last = plugins.Elements[^1];
        var separator = Encoding.UTF8.GetString(conflist, SeparatorStart(conflist, last.Start), last.Start - SeparatorStart(conflist, last.Start));
        var insert = "," + separator + Render(plugin, IndentBefore(conflist, last.Start));
        return Splice(conflist, last.End, last.End, insert);
    }

    /// <summary>The conflist without its fwmark element (unchanged when it has none).</summary>
    public static byte[] Remove(byte[] conflist, string path)
    {
        var elements = Locate(conflist, path).Elements;
        var index = elements.FindIndex(e => e.IsFwmark);
        if (index < 0)
        {
            return conflist;
        }

        var ours = elements[index];
        return index > 0
            ? Splice(conflist, elements[index - 1].End, ours.End, "")
            : Splice(conflist, ours.Start, elements.Count > 1 ? elements[1].Start : ours.End, "");
    }

    private static Plugins Locate(byte[] bytes, string path)
    {
        var offset = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        var reader = new Utf8JsonReader(bytes.AsSpan(offset), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InstallException($"failed to edit {path}: not a JSON object");
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var name = reader.GetString();
                reader.Read();
                if (name != "plugins")
                {
                    reader.Skip();
                    continue;
                }

                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    throw new InstallException($"failed to edit {path}: \"plugins\" is not a list");
                }

                var arrayStart = offset + (int)reader.TokenStartIndex;
                var elements = new List<Element>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var start = offset + (int)reader.TokenStartIndex;
                    var isObject = reader.TokenType == JsonTokenType.StartObject;
                    reader.Skip();
                    var end = offset + (int)reader.BytesConsumed;
                    elements.Add(new Element(start, end, isObject ? JsonNode.Parse(bytes.AsSpan(start, end - start)) as JsonObject : null));
                }

                return new Plugins(arrayStart, offset + (int)reader.TokenStartIndex, elements);
            }
        }
        catch (JsonException e)
        {
            throw new InstallException($"failed to edit {path}: not valid JSON ({e.Message.Split('\n')[0].TrimEnd()})", e);
        }

        throw new InstallException($"failed to edit {path}: no \"plugins\" list (a single-plugin .conf file cannot chain; use --own-conflist)");
    }

    // Where the whitespace before an element begins (just after the preceding ',' or '[').
    private static int SeparatorStart(byte[] bytes, int elementStart)
    {
        var i = elementStart;
        while (i > 0 && bytes[i - 1] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
        {
            i--;
        }

        return i;
    }

    // The element's column as the whitespace that starts its line; null when the element shares its line with other text.
    private static string? IndentBefore(byte[] bytes, int elementStart)
    {
        var i = elementStart;
        while (i > 0 && bytes[i - 1] is (byte)' ' or (byte)'\t')
        {
            i--;
        }

        return i == 0 || bytes[i - 1] == (byte)'\n' ? Encoding.UTF8.GetString(bytes, i, elementStart - i) : null;
    }

    /// <summary>Indented like the file's other elements when they are on lines of their own, compact otherwise.</summary>
    internal static string Render(JsonObject plugin, string? indent)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indent is not null, IndentSize = 2 }))
        {
            plugin.WriteTo(writer);
        }

        var text = Encoding.UTF8.GetString(buffer.ToArray());
        return indent is null ? text : text.Replace("\n", "\n" + indent, StringComparison.Ordinal);
    }

    private static byte[] Splice(byte[] bytes, int start, int end, string insert)
    {
        var middle = Encoding.UTF8.GetBytes(insert);
        var result = new byte[bytes.Length - (end - start) + middle.Length];
        bytes.AsSpan(0, start).CopyTo(result);
        middle.CopyTo(result.AsSpan(start));
        bytes.AsSpan(end).CopyTo(result.AsSpan(start + middle.Length));
        return result;
    }
}
