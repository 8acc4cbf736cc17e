using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Cni;

public sealed partial class CniResult
{
    /// <summary>
    /// Reads a result of any supported version (0.3.x/0.4.0 carry ips[].version, 1.x do not; either way
    /// the address decides the family). A result without "cniVersion" is taken to be in
    /// <paramref name="assumedVersion"/>, as libcni's ParsePrevResult does. Only what the typed views
    /// and the conversion need is checked; other fields pass through untouched.
    /// </summary>
    /// <exception cref="FormatException">The JSON does not have the shape of a CNI result; the message names the field.</exception>
    public static CniResult Parse(JsonNode? node, string assumedVersion)
    {
        if (node is not JsonObject obj)
        {
            throw new FormatException($"must be a JSON object, got {CniJson.KindOf(node)}");
        }

        var version = CniJson.OptionalString(obj, "cniVersion", "") ?? assumedVersion;
        if (!CniVersions.IsSupported(version))
        {
            throw new FormatException($"cniVersion: \"{version}\" is not supported (plugin supports {string.Join(", ", CniVersions.Supported)})");
        }

        var interfaces = ReadList(obj, "interfaces", ReadInterface);
        var ips = ReadList(obj, "ips", ReadIp);
        _ = ReadList(obj, "routes", static (route, _) => route); // conversion edits routes: they must be objects
        if (obj["dns"] is { } dns and not JsonObject)
        {
            throw new FormatException($"dns: must be an object, got {CniJson.KindOf(dns)}");
        }

        return new CniResult((JsonObject)obj.DeepClone(), version) { Interfaces = interfaces, Ips = ips };
    }

    private static List<T> ReadList<T>(JsonObject obj, string key, Func<JsonObject, string, T> read)
    {
        var node = obj[key];
        if (node is null)
        {
            return [];
        }

        if (node is not JsonArray array)
        {
            throw new FormatException($"{key}: must be an array, got {CniJson.KindOf(node)}");
        }

        var items = new List<T>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"{key}[{i}]";
            items.Add(array[i] is JsonObject item
                ? read(item, path + ".")
                : throw new FormatException($"{path}: must be an object, got {CniJson.KindOf(array[i])}"));
        }

        return items;
    }

    private static CniInterface ReadInterface(JsonObject obj, string path) => new(
        CniJson.OptionalString(obj, "name", path) ?? "",
        CniJson.OptionalString(obj, "mac", path),
        CniJson.OptionalString(obj, "sandbox", path));

    private static CniIpConfig ReadIp(JsonObject obj, string path)
    {
        var text = CniJson.OptionalString(obj, "address", path)
            ?? throw new FormatException($"{path}address: missing");
        if (!TryParseCidr(text, out var address, out var prefix))
        {
            throw new FormatException($"{path}address: \"{text}\" is not an IP address with a prefix length");
        }

        int? index = obj["interface"] switch
        {
            null => null,
            JsonValue value when value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<int>(out var i) && i >= 0 => i,
            var other => throw new FormatException($"{path}interface: must be a non-negative integer, got {CniJson.Serialize(other)}"),
        };

        return new CniIpConfig(address, prefix, index);
    }

    /// <summary>
    /// "10.1.2.3/24" or "2001:db8::5/64", as strict as Go's net.ParseCIDR (see <see cref="StrictIp"/>).
    /// </summary>
    private static bool TryParseCidr(string text, [NotNullWhen(true)] out IPAddress? address, out int prefix)
    {
        address = null;
        prefix = 0;
        var slash = text.IndexOf('/');
        if (slash <= 0)
        {
            return false;
        }

        var host = text[..slash];
        var length = text[(slash + 1)..];
        if (!StrictIp.TryParse(host, out address) || length.Length is 0 or > 3 || !length.All(char.IsAsciiDigit))
        {
            return false;
        }

        prefix = int.Parse(length);
        return prefix <= (address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32);
    }
}
