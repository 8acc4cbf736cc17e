using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Cni;

public sealed partial class CniResult
{
    /// <summary>Top-level keys in the order of the spec's examples; anything else follows in input order.</summary>
    private static readonly string[] ResultKeys = ["cniVersion", "interfaces", "ips", "routes", "dns"];

    private static readonly string[] InterfaceKeysSince110 = ["mtu", "socketPath", "pciID"];

    private static readonly string[] RouteKeysSince110 = ["mtu", "advmss", "priority", "table", "scope"];

    private static readonly CniVersion FirstWithoutIpVersion = new(1, 0, 0);

    private static readonly CniVersion FirstWith110Fields = new(1, 1, 0);

    /// <summary>
    /// This result in the format of <paramref name="version"/>, following libcni's conversions:
    /// below 1.0.0 every ips[] entry carries "version" ("4"/"6", from the address family), from 1.0.0 on
    /// none does; below 1.1.0 the 1.1.0-only interface and route fields are dropped. "cniVersion" is
    /// set to <paramref name="version"/> and comes first; an empty "dns" is left out. Unknown fields
    /// are kept.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="version"/> is not a supported version.</exception>
    public JsonObject ToJson(string version)
    {
        if (!CniVersions.IsSupported(version))
        {
            throw new ArgumentException($"failed to convert result to cniVersion \"{version}\": not supported", nameof(version));
        }

        var target = Cni.CniVersion.Parse(version);
        var before110 = target < FirstWith110Fields;
        var output = new JsonObject { ["cniVersion"] = version };

        if (json["interfaces"] is JsonArray interfaces)
        {
            output["interfaces"] = Rebuild(interfaces, before110 ? InterfaceKeysSince110 : []);
        }

        if (json["ips"] is JsonArray ips)
        {
            output["ips"] = ConvertIps(ips, target < FirstWithoutIpVersion);
        }

        if (json["routes"] is JsonArray routes)
        {
            output["routes"] = Rebuild(routes, before110 ? RouteKeysSince110 : []);
        }

        if (json["dns"] is JsonObject dns && !IsEmptyDns(dns))
        {
            output["dns"] = dns.DeepClone();
        }

        foreach (var (key, value) in json)
        {
            if (!ResultKeys.Contains(key))
            {
                output[key] = value?.DeepClone();
            }
        }

        return output;
    }

    private static JsonArray Rebuild(JsonArray items, string[] dropped)
    {
        var copy = new JsonArray();
        foreach (var item in items)
        {
            var clone = (JsonObject)item!.DeepClone();
            foreach (var key in dropped)
            {
                clone.Remove(key);
            }

            copy.Add((JsonNode)clone);
        }

        return copy;
    }

    /// <summary>"version" leads the entry, where Go's 0.4.0 IPConfig struct puts it.</summary>
    private JsonArray ConvertIps(JsonArray ips, bool withVersion)
    {
        var copy = new JsonArray();
        for (var i = 0; i < ips.Count; i++)
        {
            var entry = new JsonObject();
            if (withVersion)
            {
                entry["version"] = FamilyOf(Ips[i].Address);
            }

            foreach (var (key, value) in (JsonObject)ips[i]!)
            {
                if (key != "version")
                {
                    entry[key] = value?.DeepClone();
                }
            }

            copy.Add((JsonNode)entry);
        }

        return copy;
    }

    /// <summary>Go calls an address IPv4 when it has a 4-byte form, which includes IPv4-mapped IPv6.</summary>
    private static string FamilyOf(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetwork || address.IsIPv4MappedToIPv6 ? "4" : "6";

    /// <summary>Empty = every field null, "" or [] (what bridge's "dns": {} means).</summary>
    private static bool IsEmptyDns(JsonObject dns) => dns.All(p => p.Value switch
    {
        null => true,
        JsonArray array => array.Count == 0,
        JsonValue value => value.GetValueKind() == JsonValueKind.String && value.GetValue<string>().Length == 0,
        _ => false,
    });
}
