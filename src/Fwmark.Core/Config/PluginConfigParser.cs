using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Config;

/// <summary>
/// Turns the plugin object of a conflist into a <see cref="PluginConfig"/> (README "Configuration").
/// Unknown top-level keys are ignored because runtimes add their own, except one that differs from
/// ours only by case (a typo like "defaultmark" would silently mark nothing); inside a mark and its
/// route every key must be ours (runtimes never add keys there). A known key with a wrong type or value is a
/// problem naming its JSON path and the value. All problems are collected and thrown together as one
/// <see cref="Cni.CniException"/> with code 7.
/// A JSON null in an optional key means "not set".
/// </summary>
public static class PluginConfigParser
{
    public const int MaxNameLength = 63;

    public static PluginConfig Parse(JsonObject plugin)
    {
        var problems = new ConfigProblems();
        KnownKeys.CheckTopLevel(plugin, problems);
        var routes = new Dictionary<string, RouteSpec>(StringComparer.Ordinal);
        var marks = ParseMarks(plugin, routes, problems);
        RouteSpecParser.CheckSharedTables(routes, problems);
        RouteSpecParser.CheckOverlappingSelectors(marks, routes, problems);
        var names = MarkNames(plugin);
        var defaultMark = ParseDefaultMark(plugin["defaultMark"], names, problems);
        var namespaces = ParseNamespaces(plugin["namespaces"], names, problems);
        var connmark = ConfigJson.Boolean("connmark", plugin["connmark"], absent: false, problems, out _);
        var log = Logging.LogSettings.Parse(plugin, problems);
        foreach (var zero in connmark ? marks.Values.Where(m => m.Value == 0) : [])
        {
            // Its restore rule (ct mark & M == 0) would match nearly every reply on the node.
            problems.Invalid("connmark", $"true is not allowed with mark {ConfigJson.Quote(zero.Name)}, whose value is 0 (restoring it would rewrite the mask bits of almost every reply on the node)");
        }

        problems.ThrowIfAny();
        return new PluginConfig
        {
            Marks = connmark ? marks.ToDictionary(m => m.Key, m => m.Value with { Connmark = true }, StringComparer.Ordinal) : marks,
            Routes = routes,
            DefaultMark = defaultMark,
            Namespaces = namespaces,
            Connmark = connmark,
            Log = log,
        };
    }

    /// <summary>Mark names are what users type in annotations and CNI_ARGS, so keep them to a safe alphabet.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>"gw2, vpn": the sorted names, for messages that must tell the user what would have worked.</summary>
    public static string ListNames(IEnumerable<string> names)
    {
        var sorted = names.Order(StringComparer.Ordinal).ToList();
        return sorted.Count == 0 ? "(none)" : string.Join(", ", sorted);
    }

    private static Dictionary<string, MarkSpec> ParseMarks(JsonObject plugin, Dictionary<string, RouteSpec> routes, ConfigProblems problems)
    {
        var marks = new Dictionary<string, MarkSpec>(StringComparer.Ordinal);
        if (!plugin.TryGetPropertyValue("marks", out var node))
        {
            problems.Invalid("marks", "missing (at least one mark is required)");
            return marks;
        }

        if (node is not JsonObject entries)
        {
            problems.Invalid("marks", $"{ConfigJson.Render(node)} is not an object (expected mark name → {{\"mark\": ..., \"mask\": ...}})");
            return marks;
        }

        if (entries.Count == 0)
        {
            problems.Invalid("marks", "{} is empty (at least one mark is required)");
        }

        foreach (var (name, entry) in entries)
        {
            var path = ConfigJson.Member("marks", name);
            if (!IsValidName(name))
            {
                problems.Invalid(path, $"{ConfigJson.Quote(name)} is not a valid mark name (expected 1-{MaxNameLength} characters of A-Z a-z 0-9 . _ -)");
            }

            var (spec, route) = ParseMark(name, path, entry, problems);
            if (spec is not null && IsValidName(name))
            {
                marks[name] = spec;
                if (route is not null)
                {
                    routes[name] = route;
                }
            }
        }

        return marks;
    }

    private static (MarkSpec? Mark, RouteSpec? Route) ParseMark(string name, string path, JsonNode? node, ConfigProblems problems)
    {
        if (node is not JsonObject entry)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} is not an object (expected {{\"mark\": ..., \"mask\": ...}})");
            return (null, null);
        }

        KnownKeys.CheckExact(path, entry, KnownKeys.Mark, "a mark", problems);
        uint? value = null;
        var markPath = ConfigJson.Member(path, "mark");
        if (!entry.TryGetPropertyValue("mark", out var markNode))
        {
            problems.Invalid(markPath, "missing (every mark needs a value)");
        }
        else
        {
            value = ReadNumber(markPath, markNode, problems);
        }

        uint? mask = uint.MaxValue;
        var maskPath = ConfigJson.Member(path, "mask");
        if (entry["mask"] is { } maskNode)
        {
            mask = ReadNumber(maskPath, maskNode, problems);
            if (mask == 0)
            {
                problems.Invalid(maskPath, $"{ConfigJson.Render(maskNode)} is not allowed (mask must have at least one bit set)");
                mask = null;
            }
        }

        // After the mark's own problems, before the early returns: route problems are always reported.
        var route = RouteSpecParser.Parse(ConfigJson.Member(path, "route"), entry["route"], value, problems);
        if (value is not { } v || mask is not { } m)
        {
            return (null, null);
        }

        if ((v & ~m) != 0)
        {
            // Bits outside the mask would be silently dropped by the kernel: say which ones.
            problems.Invalid(markPath, $"{ConfigJson.Render(markNode)} has bits outside the mask (0x{v:x} & ~0x{m:x} = 0x{v & ~m:x})");
            return (null, null);
        }

        return (new MarkSpec(name, v, m), route);
    }

    private static uint? ReadNumber(string path, JsonNode? node, ConfigProblems problems)
    {
        var value = MarkNumber.Read(node, out var problem);
        if (value is null)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} {problem}");
        }

        return value;
    }

    /// <summary>
    /// Every key of "marks", valid or not: a reference to a mark whose own entry is broken is not a
    /// second problem, so only names that are not there at all are reported.
    /// </summary>
    private static HashSet<string> MarkNames(JsonObject plugin) =>
        plugin["marks"] is JsonObject entries ? entries.Select(e => e.Key).ToHashSet(StringComparer.Ordinal) : [];

    private static string? ParseDefaultMark(JsonNode? node, HashSet<string> names, ConfigProblems problems) =>
        node is null ? null : ReadMarkName("defaultMark", node, names, problems);

    private static Dictionary<string, string> ParseNamespaces(JsonNode? node, HashSet<string> names, ConfigProblems problems)
    {
        var namespaces = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is null)
        {
            return namespaces;
        }

        if (node is not JsonObject entries)
        {
            problems.Invalid("namespaces", $"{ConfigJson.Render(node)} is not an object (expected Kubernetes namespace → mark name)");
            return namespaces;
        }

        foreach (var (ns, value) in entries)
        {
            var path = ConfigJson.Member("namespaces", ns);
            if (ns.Length == 0)
            {
                problems.Invalid(path, "\"\" is not a namespace name (must not be empty)");
            }

            if (ReadMarkName(path, value, names, problems) is { } name && ns.Length > 0)
            {
                namespaces[ns] = name;
            }
        }

        return namespaces;
    }

    private static string? ReadMarkName(string path, JsonNode? node, HashSet<string> names, ConfigProblems problems)
    {
        if (node is null || node.GetValueKind() != JsonValueKind.String)
        {
            problems.Invalid(path, $"{ConfigJson.Render(node)} is not a string (expected a mark name)");
            return null;
        }

        var name = node.GetValue<string>();
        if (names.Count > 0 && !names.Contains(name))
        {
            problems.Invalid(path, $"{ConfigJson.Quote(name)} does not name a mark (valid names: {ListNames(names)})");
            return null;
        }

        return name;
    }
}
