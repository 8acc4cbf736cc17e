namespace Fwmark.Cli;

/// <summary>
/// The one option parser of every command: <c>--name VALUE</c>, <c>--name=VALUE</c> and flags, from the
/// command's declared options plus <c>--help</c>. Strict on purpose, because these commands run from
/// hooks and units where a typo must fail loudly rather than be ignored: an unknown option, a value
/// missing (end of line, or the next word is another option), a value given to a flag, an option given
/// twice and a stray word are all usage errors naming the culprit.
/// </summary>
public static class CliParser
{
    /// <summary>True when <c>--help</c>/<c>-h</c> appears anywhere: help wins over every other problem.</summary>
    public static bool WantsHelp(IEnumerable<string> args) => args.Any(a => a is "--help" or "-h");

    public static CliArguments Parse(ICliCommand command, IReadOnlyList<string> args)
    {
        var known = command.Options.ToDictionary(o => o.Name, StringComparer.Ordinal);
        var given = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new CliUsageException($"{command.Name}: unexpected argument \"{arg}\"");
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg : arg[..equals];
            if (!known.TryGetValue(name, out var option))
            {
                throw new CliUsageException($"{command.Name}: unknown option {name} (options: {string.Join(", ", command.Options.Select(o => o.Name))})");
            }

            if (given.ContainsKey(name))
            {
                throw new CliUsageException($"{command.Name}: {name} given twice");
            }

            string? value = null;
            if (option.IsFlag)
            {
                if (equals >= 0)
                {
                    throw new CliUsageException($"{command.Name}: {name} takes no value (got \"{arg[(equals + 1)..]}\")");
                }
            }
            else if (equals >= 0)
            {
                value = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }

            if (!option.IsFlag && string.IsNullOrEmpty(value))
            {
                throw new CliUsageException($"{command.Name}: {name} needs a value ({option.ValueName})");
            }

            given[name] = value;
        }

        return new CliArguments(given);
    }
}
