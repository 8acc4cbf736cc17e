namespace Fwmark.Cli;

/// <summary>
/// One operator subcommand. A command is one file: the class implementing this interface plus its
/// <see cref="CommandTable.Register"/> line in a module initializer (see docs/cli.md "Adding a command").
/// </summary>
public interface ICliCommand
{
    /// <summary>The word after <c>fwmark</c>.</summary>
    string Name { get; }

    /// <summary>One line for the command list of <c>fwmark --help</c>.</summary>
    string Summary { get; }

    /// <summary>What the command does and what its exit codes mean, for <c>fwmark NAME --help</c> (the option list and exit code table are added).</summary>
    string Description { get; }

    /// <summary>The options it accepts besides <c>--help</c> (e.g. <see cref="CliOption.ConfDir"/>, <see cref="CliOption.Json"/>).</summary>
    IReadOnlyList<CliOption> Options { get; }

    /// <summary>Runs the command; returns one of <see cref="ExitCodes"/>.</summary>
    int Run(CliContext context);
}
