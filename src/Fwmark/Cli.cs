namespace Fwmark;

/// <summary>
/// The operator CLI (no CNI_COMMAND). Subcommands that read conflists take --conf-dir; every
/// subcommand answers --help. Exit codes: 0 ok, 1 the node does not match, 2 usage error.
/// </summary>
internal static class Cli
{
    private const string Usage = """
        fwmark — a chained CNI plugin that marks the traffic of selected pods so policy routing
        can send it out another path (VPN, separate gateway).

        As a CNI plugin it is exec'd by the container runtime with CNI_COMMAND set.
        Operator commands (run without CNI_COMMAND):
          fwmark version     print the plugin version and the CNI spec versions it speaks
          fwmark --help      this text

        Configuration, selection rules and guarantees: see the README.
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            stdout.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        switch (args[0])
        {
            case "version" or "--version":
                stdout.WriteLine($"fwmark {ThisAssembly.Version} (CNI {string.Join(", ", Fwmark.Cni.CniVersions.Supported)})");
                return 0;
            default:
                stderr.WriteLine($"fwmark: unknown command \"{args[0]}\" (try fwmark --help)");
                return 2;
        }
    }
}
