using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Processes;

namespace Fwmark.Testbed.Cni;

/// <summary>What one plugin exec returned, with the stdin it was given (for failure messages).</summary>
public sealed record CniExecResult(string Plugin, string Command, string Stdin, CommandResult Process)
{
    public int ExitCode => Process.ExitCode;

    public string Stdout => Process.Stdout;

    public string Stderr => Process.Stderr;

    public bool Succeeded => Process.Succeeded;

    /// <summary>stdout as a JSON object (ADD result, VERSION answer, or CNI error); null when it is not one.</summary>
    public JsonObject? Json
    {
        get
        {
            try
            {
                return string.IsNullOrWhiteSpace(Stdout) ? null : JsonNode.Parse(Stdout) as JsonObject;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>The "code" of a CNI error printed on stdout; null when stdout is not an error object.</summary>
    public int? ErrorCode => Json?["code"] is JsonValue code && code.TryGetValue<int>(out var value) ? value : null;

    public string Describe() => $"{Plugin} {Command}: {Process.Describe()}\n--- stdin:\n{Stdin}";
}
