using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core;
using Fwmark.Core.Config;
using Fwmark.Core.Routing;

namespace Fwmark.Cli.Doctor;

/// <summary>One parsed conf file: a conflist (<c>plugins</c>) or a single-plugin .conf.</summary>
public sealed record Network(string Path, string? Name, IReadOnlyList<JsonObject> Plugins)
{
    public IEnumerable<string> Types => Plugins.Select(TypeOf).OfType<string>();

    public static string? TypeOf(JsonObject plugin) =>
        plugin["type"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}

/// <summary>A fwmark plugin object: where it is, and its config or why it is invalid.</summary>
public sealed record FwmarkEntry(Network Network, int Index, JsonObject Plugin, PluginConfig? Config, string? Error);

/// <summary>A mark as some conflist configures it (the first file naming a value/mask/route wins).</summary>
public sealed record ConfiguredMark(MarkSpec Mark, RouteSpec? Route, bool Connmark, string Path)
{
    public string Describe() => $"mark {Mark.Name} (0x{Mark.Value:x}/0x{Mark.Mask:x}) of {System.IO.Path.GetFileName(Path)}";
}

/// <summary>Turns conf files into <see cref="Network"/>s and fwmark entries; parse failures become sentences.</summary>
public static class Networks
{
    /// <summary>The CNI plugin types that create the pod's interface (what fwmark must come after).</summary>
    public static readonly HashSet<string> MainPluginTypes = new(StringComparer.Ordinal)
    {
        "bridge", "ptp", "macvlan", "ipvlan", "host-device", "vlan", "tap", "dummy", "vrf",
        "flannel", "calico", "cilium-cni", "weave-net", "antrea", "kube-ovn", "ovn-k8s-cni-overlay",
        "aws-cni", "azure-vnet", "multus", "multus-shim", "egress-gateway", "netavark",
    };

    /// <summary>
    /// Main plugins only Kubernetes uses (heuristic: a conflist with one of them is loaded by a CRI runtime,
    /// so marks are selected by pod annotation).
    /// </summary>
    public static readonly HashSet<string> KubernetesTypes = new(StringComparer.Ordinal)
    {
        "flannel", "calico", "cilium-cni", "weave-net", "antrea", "kube-ovn", "ovn-k8s-cni-overlay", "aws-cni", "azure-vnet", "multus", "multus-shim",
    };

    public static (Network? Network, string? Error) Parse(ConfFile file)
    {
        if (file.Text is null)
        {
            return (null, file.Error);
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(file.Text);
        }
        catch (JsonException e)
        {
            return (null, $"{file.Path}: failed to parse conflist: {e.Message.Split('\n')[0].TrimEnd()}");
        }

        if (root is not JsonObject obj)
        {
            return (null, $"{file.Path}: failed to parse conflist: the top level is not a JSON object");
        }

        var name = obj["name"] is JsonValue n && n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : null;
        var plugins = obj["plugins"] is JsonArray array ? array.OfType<JsonObject>().ToList() : [obj];
        return (new Network(file.Path, name, plugins), null);
    }

    public static IEnumerable<FwmarkEntry> FwmarkEntries(Network network)
    {
        for (var i = 0; i < network.Plugins.Count; i++)
        {
            var plugin = network.Plugins[i];
            if (Network.TypeOf(plugin) != "fwmark")
            {
                continue;
            }

            PluginConfig? config = null;
            string? error = null;
            try
            {
                config = PluginConfigParser.Parse(plugin);
            }
            catch (CniException e)
            {
                error = e.Details is { Length: > 0 } details ? $"{e.Message} ({details.Replace('\n', ';')})" : e.Message;
            }

            yield return new FwmarkEntry(network, i, plugin, config, error);
        }
    }
}
