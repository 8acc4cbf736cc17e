namespace Fwmark.Core.Config;

/// <summary>
/// The fwmark keys of one plugin object in a conflist, validated. Built only by
/// <see cref="PluginConfigParser"/>, so every invariant below holds for any instance it returns.
/// </summary>
public sealed record PluginConfig
{
    /// <summary>
    /// JSON <c>marks</c>: mark name → what to set. Required, at least one entry. Names match
    /// <c>^[A-Za-z0-9._-]{1,63}$</c> and are case-sensitive. Each <see cref="MarkSpec"/> has a non-zero
    /// mask and no value bits outside it (mask defaults to <c>0xffffffff</c>).
    /// </summary>
    public required IReadOnlyDictionary<string, MarkSpec> Marks { get; init; }

    /// <summary>
    /// JSON <c>defaultMark</c>: the mark for every attachment that has no more specific choice.
    /// Default null (no mark). When set, it is a key of <see cref="Marks"/>.
    /// </summary>
    public string? DefaultMark { get; init; }

    /// <summary>
    /// JSON <c>namespaces</c>: Kubernetes namespace (matched against <c>K8S_POD_NAMESPACE</c>) → mark name.
    /// Default empty. Keys are non-empty; every value is a key of <see cref="Marks"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> Namespaces { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// JSON <c>marks.&lt;name&gt;.route</c>: mark name → the policy routing the plugin keeps for it
    /// (<see cref="Routing.RouteSpec"/>). Default empty. Every key is a key of <see cref="Marks"/>;
    /// marks that share a table route it the same way.
    /// </summary>
    public IReadOnlyDictionary<string, Routing.RouteSpec> Routes { get; init; } = new Dictionary<string, Routing.RouteSpec>();

    /// <summary>
    /// JSON <c>connmark</c>: save the mark to conntrack and restore it on replies. Default false. When
    /// true, every <see cref="MarkSpec"/> in <see cref="Marks"/> has <see cref="MarkSpec.Connmark"/> set.
    /// </summary>
    public bool Connmark { get; init; }

    /// <summary>
    /// JSON <c>logFile</c> (absolute path, default none) and <c>logLevel</c> (error, warn, info, debug; default info):
    /// where <see cref="Logging.LoggingPlugin"/> appends one JSON line per invocation.
    /// </summary>
    public Logging.LogSettings Log { get; init; } = Logging.LogSettings.None;
}
