using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Core.Install;

/// <summary>
/// fwmark's own conflist for primaries that rewrite their file: the primary's conflist (every top-level key, the
/// same network name so IPAM state and the runtime's cache keys stay the same) with the fwmark element appended
/// to its chain, or replacing one already there. A single-plugin .conf becomes a one-element chain plus fwmark.
/// The same input always gives the same bytes, so re-deriving without a change writes nothing.
/// </summary>
public static class ConflistDeriver
{
    public static byte[] Derive(byte[] primary, string primaryPath, JsonObject plugin)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(primary.AsSpan().StartsWith("\uFEFF"u8) ? primary.AsSpan(3) : primary);
        }
        catch (JsonException e)
        {
            throw new InstallException($"failed to derive from {primaryPath}: not valid JSON ({e.Message.Split('\n')[0].TrimEnd()})", e);
        }

        if (root is not JsonObject conf)
        {
            throw new InstallException($"failed to derive from {primaryPath}: not a JSON object");
        }

        var derived = new JsonObject();
        JsonArray chain;
        if (conf["plugins"] is JsonArray plugins)
        {
            foreach (var (key, value) in conf)
            {
                derived[key] = key == "plugins" ? new JsonArray() : value?.DeepClone();
            }

            chain = derived["plugins"]!.AsArray();
            foreach (var element in plugins)
            {
                if (!IsFwmark(element))
                {
                    chain.Add(element?.DeepClone());
                }
            }
        }
        else if (conf["type"] is not null)
        {
            // A .conf holds one plugin with cniVersion and name beside its own keys.
            derived["cniVersion"] = conf["cniVersion"]?.DeepClone();
            derived["name"] = conf["name"]?.DeepClone();
            var single = new JsonObject();
            foreach (var (key, value) in conf)
            {
                if (key is not ("cniVersion" or "name"))
                {
                    single[key] = value?.DeepClone();
                }
            }

            chain = new JsonArray((JsonNode)single);
            derived["plugins"] = chain;
        }
        else
        {
            throw new InstallException($"failed to derive from {primaryPath}: neither a conflist (\"plugins\") nor a plugin config (\"type\")");
        }

        if (chain.Count == 0)
        {
            throw new InstallException($"failed to derive from {primaryPath}: its chain is empty; fwmark must follow a main plugin");
        }

        chain.Add(plugin.DeepClone());
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, IndentSize = 2 }))
        {
            derived.WriteTo(writer);
        }

        buffer.Write("\n"u8);
        return buffer.ToArray();
    }

    private static bool IsFwmark(JsonNode? element) =>
        element is JsonObject o && o["type"] is JsonValue type && type.GetValueKind() == JsonValueKind.String && type.GetValue<string>() == "fwmark";

    /// <summary>For messages: the chain's plugin types, "flannel, portmap, fwmark".</summary>
    public static string Chain(byte[] conflist)
    {
        try
        {
            return JsonNode.Parse(conflist)?["plugins"] is JsonArray plugins
                ? string.Join(", ", plugins.Select(p => p?["type"]?.ToString() ?? "?"))
                : "(no chain)";
        }
        catch (JsonException)
        {
            return "(not JSON)";
        }
    }

    internal static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
