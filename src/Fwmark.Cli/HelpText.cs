using System.Text;

namespace Fwmark.Cli;

/// <summary>The <c>--help</c> texts, generated from the command table so they cannot drift from it.</summary>
public static class HelpText
{
    public static string Main()
    {
        var text = new StringBuilder();
        text.AppendLine("fwmark — a chained CNI plugin that marks the traffic of selected pods so policy routing");
        text.AppendLine("can send it out another path (VPN, separate gateway).");
        text.AppendLine();
        text.AppendLine("As a CNI plugin it is exec'd by the container runtime with CNI_COMMAND set.");
        text.AppendLine("Operator commands (run without CNI_COMMAND):");
        var width = CommandTable.All.Select(c => c.Name.Length).DefaultIfEmpty(0).Max();
        foreach (var command in CommandTable.All)
        {
            text.AppendLine($"  fwmark {command.Name.PadRight(width)}   {command.Summary}");
        }

        text.AppendLine();
        text.AppendLine("fwmark COMMAND --help describes a command and its options. Options shared by the commands:");
        AppendOptions(text, [CliOption.ConfDir, CliOption.Json, CliOption.HelpOption]);
        AppendExitCodes(text);
        text.Append("Configuration, selection rules and guarantees: see the README; the CLI: docs/cli.md.");
        return text.ToString();
    }

    public static string For(ICliCommand command)
    {
        var text = new StringBuilder();
        var synopsis = string.Join(' ', command.Options.Select(o => $"[{o}]"));
        text.AppendLine($"fwmark {command.Name}{(synopsis.Length > 0 ? " " : "")}{synopsis}");
        text.AppendLine();
        text.AppendLine(command.Description.TrimEnd());
        text.AppendLine();
        text.AppendLine("Options:");
        AppendOptions(text, [.. command.Options, CliOption.HelpOption]);
        AppendExitCodes(text);
        return text.ToString().TrimEnd();
    }

    private static void AppendOptions(StringBuilder text, IReadOnlyList<CliOption> options)
    {
        var width = options.Max(o => o.ToString().Length);
        foreach (var option in options)
        {
            text.AppendLine($"  {option.ToString().PadRight(width)}   {option.Help}");
        }
    }

    private static void AppendExitCodes(StringBuilder text)
    {
        text.AppendLine();
        text.AppendLine("Exit codes:");
        foreach (var (code, name, meaning) in ExitCodes.All)
        {
            text.AppendLine($"  {code} {name.PadRight(8)} {meaning}");
        }

        text.AppendLine();
    }
}
