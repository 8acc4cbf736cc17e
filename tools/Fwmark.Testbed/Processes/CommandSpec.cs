namespace Fwmark.Testbed.Processes;

/// <summary>A command to exec: file, arguments, extra environment, stdin and a hard timeout.</summary>
public sealed record CommandSpec(string FileName, IReadOnlyList<string> Args)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Variables added to (or, with a null value, removed from) the inherited environment.</summary>
    public IReadOnlyDictionary<string, string?> Env { get; init; } = new Dictionary<string, string?>();

    /// <summary>
    /// Inherited variables starting with one of these prefixes are dropped before <see cref="Env"/> applies:
    /// a CNI plugin must see exactly the CNI_* variables the "runtime" chose, not the test runner's.
    /// </summary>
    public IReadOnlyList<string> DropInheritedPrefixes { get; init; } = [];

    /// <summary>
    /// False starts the command with nothing but <see cref="Env"/> (so Env must hold PATH if the command
    /// needs one): the benchmark hands the plugin what a runtime would, without the runner's DOTNET_* noise.
    /// </summary>
    public bool InheritEnvironment { get; init; } = true;

    /// <summary>Written to stdin, which is then closed; null gives an empty stdin.</summary>
    public string? Stdin { get; init; }

    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    public CommandSpec(string fileName, params string[] args)
        : this(fileName, (IReadOnlyList<string>)args)
    {
    }

    public override string ToString() => string.Join(' ', new[] { FileName }.Concat(Args.Select(Quote)));

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,+[]%".Contains(c)) ? arg : $"'{arg}'";
}
