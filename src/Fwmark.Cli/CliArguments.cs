namespace Fwmark.Cli;

/// <summary>A command line after <see cref="CliParser"/>: the options given (flags and values), nothing else.</summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, string?> _given;

    internal CliArguments(Dictionary<string, string?> given) => _given = given;

    public bool Has(CliOption option) => _given.ContainsKey(option.Name);

    /// <summary>The option's value, or <paramref name="fallback"/> when it was not given.</summary>
    public string Value(CliOption option, string fallback) =>
        _given.TryGetValue(option.Name, out var value) && value is not null ? value : fallback;

    public string? Value(CliOption option) => _given.GetValueOrDefault(option.Name);

    public bool Json => Has(CliOption.Json);

    public string ConfDir => Value(CliOption.ConfDir, CliOption.DefaultConfDir);
}
