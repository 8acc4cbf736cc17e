using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Fwmark.Cni;

namespace Fwmark.Cli.Commands;

/// <summary><c>fwmark version [--json]</c>: the plugin version and the CNI spec versions it speaks.</summary>
internal sealed class VersionCommand : ICliCommand
{
    public string Name => "version";

    public string Summary => "print the plugin version and the CNI spec versions it speaks";

    public string Description => """
        Prints the plugin version and the CNI spec versions it speaks (what CNI_COMMAND=VERSION
        answers to a runtime). Always exits 0.
        JSON: {"version": "0.1.0", "cniVersions": ["0.3.0", ...]}
        """;

    public IReadOnlyList<CliOption> Options => [CliOption.Json];

    public int Run(CliContext context)
    {
        if (context.Args.Json)
        {
            var json = new JsonObject
            {
                ["version"] = ThisAssembly.Version,
                ["cniVersions"] = new JsonArray([.. CniVersions.Supported.Select(v => (JsonNode)v)]),
            };
            context.Out.WriteLine(CliJson.Serialize(json));
        }
        else
        {
            context.Out.WriteLine($"fwmark {ThisAssembly.Version} (CNI {string.Join(", ", CniVersions.Supported)})");
        }

        return ExitCodes.Ok;
    }

#pragma warning disable CA2255 // The command table is filled by module initializers on purpose: one file per command (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => CommandTable.Register(new VersionCommand());
#pragma warning restore CA2255
}
