namespace Fwmark.Cli;

/// <summary>What a command runs with: its parsed options, where to write, and the node's services.</summary>
public sealed record CliContext(CliArguments Args, TextWriter Out, TextWriter Err, IFwmarkServices Services);
