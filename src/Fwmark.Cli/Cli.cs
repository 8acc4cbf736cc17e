namespace Fwmark.Cli;

/// <summary>
/// The operator CLI's entry point (no CNI_COMMAND): finds the command in <see cref="CommandTable"/>,
/// parses its options with <see cref="CliParser"/>, runs it. Never throws: a usage error exits
/// <see cref="ExitCodes.Usage"/> with a sentence, anything unexpected <see cref="ExitCodes.Internal"/>
/// with its message (the operator gets a line to report, not a stack trace).
/// </summary>
public static class Cli
{
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, IFwmarkServices services)
    {
        var name = args.Count > 0 ? args[0] : null;
        try
        {
            switch (name)
            {
                case null:
                    stderr.WriteLine(HelpText.Main());
                    return ExitCodes.Usage;
                case "-h" or "--help":
                    stdout.WriteLine(HelpText.Main());
                    return ExitCodes.Ok;
                case "help" when args.Count > 1:
                    return Run([args[1], "--help"], stdout, stderr, services);
                case "help":
                    stdout.WriteLine(HelpText.Main());
                    return ExitCodes.Ok;
                case "--version":
                    return Run(["version", .. args.Skip(1)], stdout, stderr, services);
            }

            if (CommandTable.Find(name) is not { } command)
            {
                var hint = name.StartsWith('-') ? "a command comes first" : "unknown command";
                throw new CliUsageException($"{hint} \"{name}\"");
            }

            var rest = args.Skip(1).ToList();
            if (CliParser.WantsHelp(rest))
            {
                stdout.WriteLine(HelpText.For(command));
                return ExitCodes.Ok;
            }

            return command.Run(new CliContext(CliParser.Parse(command, rest), stdout, stderr, services));
        }
        catch (CliUsageException e)
        {
            stderr.WriteLine($"fwmark: {e.Message} (try fwmark {(CommandTable.Find(name ?? "") is { } c ? c.Name + " " : "")}--help)");
            return ExitCodes.Usage;
        }
        catch (Exception e)
        {
            try
            {
                stderr.WriteLine($"fwmark {name}: internal error: {e.GetType().Name}: {e.Message}");
            }
            catch (IOException)
            {
                // stderr is gone: the exit code is all that is left.
            }

            return ExitCodes.Internal;
        }
    }
}
