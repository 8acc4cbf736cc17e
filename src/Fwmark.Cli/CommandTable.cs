namespace Fwmark.Cli;

/// <summary>
/// The registry of operator subcommands. Each command registers itself from its own file (a module
/// initializer, which Native AOT runs at startup like the JIT does), so adding a command touches no
/// shared switch or list: see docs/cli.md "Adding a command". Listed by name in <c>fwmark --help</c>.
/// </summary>
public static class CommandTable
{
    private static readonly SortedDictionary<string, ICliCommand> Commands = new(StringComparer.Ordinal);

    public static IEnumerable<ICliCommand> All => Commands.Values;

    /// <summary>Adds a command; a second command with the same name is a programming error.</summary>
    public static void Register(ICliCommand command)
    {
        if (!Commands.TryAdd(command.Name, command))
        {
            throw new InvalidOperationException($"failed to register command {command.Name}: already registered");
        }
    }

    public static ICliCommand? Find(string name) => Commands.GetValueOrDefault(name);
}
