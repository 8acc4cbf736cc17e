namespace Fwmark.Cli;

/// <summary>The command line is wrong; the message says how, and the caller exits with <see cref="ExitCodes.Usage"/>.</summary>
public sealed class CliUsageException(string message) : Exception(message);
