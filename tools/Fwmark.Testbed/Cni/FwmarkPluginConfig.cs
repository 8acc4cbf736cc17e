using System.Text.Json.Nodes;

namespace Fwmark.Testbed.Cni;

/// <summary>Plugin objects for the fwmark entry of a conflist (see README "Configuration").</summary>
public static class FwmarkPluginConfig
{
    public const string AnnotationsCapability = "io.kubernetes.cri.pod-annotations";
    public const string NameAnnotation = "cni.fwmark.net/name";

    /// <summary>The seed's config: one mark "vpn" = 0x10/0x10, selectable by pod annotation.</summary>
    public static JsonObject Vpn(uint mark = 0x10, uint mask = 0x10) => new()
    {
        ["type"] = "fwmark",
        ["capabilities"] = new JsonObject { [AnnotationsCapability] = true },
        ["marks"] = new JsonObject { ["vpn"] = new JsonObject { ["mark"] = mark, ["mask"] = mask } },
    };

    /// <summary>The podman "whole network" config: every attachment of the network gets "vpn".</summary>
    public static JsonObject VpnForEveryone(uint mark = 0x10, uint mask = 0x10)
    {
        var config = Vpn(mark, mask);
        config["defaultMark"] = "vpn";
        return config;
    }

    /// <summary>Capability values carrying the pod annotation that selects <paramref name="markName"/>.</summary>
    public static Dictionary<string, JsonNode?> Annotated(string markName) => new()
    {
        [AnnotationsCapability] = new JsonObject { [NameAnnotation] = markName, ["other"] = "x" },
    };
}
