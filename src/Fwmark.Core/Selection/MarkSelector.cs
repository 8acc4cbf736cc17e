using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Config;

namespace Fwmark.Core.Selection;

/// <summary>
/// Picks the mark for an attachment (README "Configuration"), first match wins:
/// pod annotation, CNI_ARGS FWMARK_NAME, namespaces[K8S_POD_NAMESPACE], defaultMark, none.
/// Fails closed: a pod that names a mark we do not have must not start unmarked, so an unknown or
/// empty name is an error, never a fall-through to the next source.
/// </summary>
public static class MarkSelector
{
    public const string AnnotationsCapability = "io.kubernetes.cri.pod-annotations";
    public const string Annotation = "cni.fwmark.net/name";
    public const string ArgName = "FWMARK_NAME";
    public const string ArgNamespace = "K8S_POD_NAMESPACE";

    public static MarkSelection? Select(PluginConfig config, CniRequest request)
    {
        if (FromAnnotation(config, request.RuntimeConfig) is { } annotated)
        {
            return Resolve(config, annotated, $"annotation {Annotation}");
        }

        if (request.Args.TryGetValue(ArgName, out var argName))
        {
            return Resolve(config, argName, $"CNI_ARGS {ArgName}");
        }

        if (request.Args.TryGetValue(ArgNamespace, out var ns) && config.Namespaces.TryGetValue(ns, out var nsName))
        {
            return Resolve(config, nsName, $"namespace {Text.Cut(ns)}");
        }

        return config.DefaultMark is { } defaultName ? Resolve(config, defaultName, "defaultMark") : null;
    }

    /// <summary>
    /// The annotation's value, or null when the runtime sent no annotation. A null map counts as "no
    /// annotations" (Go encodes a nil map as null); anything else malformed is an error because we
    /// cannot tell whether the pod asked for a mark.
    /// </summary>
    private static string? FromAnnotation(PluginConfig config, JsonObject? runtimeConfig)
    {
        var annotations = runtimeConfig?[AnnotationsCapability];
        if (annotations is null)
        {
            return null;
        }

        if (annotations is not JsonObject map)
        {
            throw new CniException(CniErrorCodes.InvalidNetworkConfig,
                $"runtimeConfig[\"{AnnotationsCapability}\"]: {ConfigJson.Render(annotations)} is not an object (expected annotation name → value)");
        }

        if (!map.TryGetPropertyValue(Annotation, out var value))
        {
            return null;
        }

        if (value is null || value.GetValueKind() != JsonValueKind.String)
        {
            throw new CniException(CniErrorCodes.InvalidNetworkConfig,
                $"mark name {ConfigJson.Render(value)} from annotation {Annotation} is not a string; valid names: {PluginConfigParser.ListNames(config.Marks.Keys)}");
        }

        return value.GetValue<string>();
    }

    private static MarkSelection Resolve(PluginConfig config, string name, string source) =>
        config.Marks.TryGetValue(name, out var mark)
            ? new MarkSelection(mark, source)
            : throw new CniException(CniErrorCodes.InvalidNetworkConfig,
                $"unknown mark name {ConfigJson.Quote(name)} from {source}; valid names: {PluginConfigParser.ListNames(config.Marks.Keys)}");
}
