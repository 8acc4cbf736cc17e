using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Config;

namespace Fwmark.Core.Install;

/// <summary>
/// The fwmark element the installer puts into a chain: <c>"type": "fwmark"</c>, the pod-annotations capability
/// (containerd and CRI-O send annotations only to plugins that declare it) and the keys of the --config file
/// (<c>marks</c>, <c>defaultMark</c>, <c>namespaces</c>, <c>connmark</c>, ...), validated by the plugin's own parser so
/// a config the plugin would refuse at the first pod is refused at install time instead.
/// </summary>
public static class FwmarkPluginObject
{
    public const string AnnotationsCapability = "io.kubernetes.cri.pod-annotations";

    public static JsonObject FromConfigText(string text, string source)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(text);
        }
        catch (JsonException e)
        {
            throw new InstallException($"failed to read config {source}: not valid JSON ({e.Message.Split('\n')[0].TrimEnd()})", e);
        }

        if (node is not JsonObject keys)
        {
            throw new InstallException($"failed to read config {source}: expected a JSON object holding the fwmark plugin's keys (marks, defaultMark, ...)");
        }

        return Build(keys, source);
    }

    public static JsonObject Build(JsonObject keys, string source)
    {
        if (keys["type"] is JsonValue type && (type.GetValueKind() != JsonValueKind.String || type.GetValue<string>() != "fwmark"))
        {
            throw new InstallException($"failed to read config {source}: \"type\" must be \"fwmark\" (or left out)");
        }

        var plugin = new JsonObject { ["type"] = "fwmark" };
        var capabilities = keys["capabilities"] as JsonObject;
        var merged = capabilities?.DeepClone().AsObject() ?? [];
        merged[AnnotationsCapability] = true;
        plugin["capabilities"] = merged;
        foreach (var (key, value) in keys)
        {
            if (key is not ("type" or "capabilities" or "cniVersion" or "name"))
            {
                plugin[key] = value?.DeepClone();
            }
        }

        try
        {
            PluginConfigParser.Parse(plugin);
        }
        catch (CniException e)
        {
            throw new InstallException($"failed to read config {source}: {e.Message}" + (e.Details is { Length: > 0 } d ? $"\n  {d.Replace("\n", "\n  ", StringComparison.Ordinal)}" : ""), e);
        }

        return plugin;
    }
}
