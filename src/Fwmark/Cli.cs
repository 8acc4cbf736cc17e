using Fwmark.Core.Operator;
using Fwmark.Linux;
using Fwmark.Linux.Routing;

namespace Fwmark;

/// <summary>
/// The operator CLI (no CNI_COMMAND). Subcommands that read conflists take --conf-dir; every
/// subcommand answers --help. Exit codes: 0 ok, 1 the node does not match the config, 2 usage error.
/// </summary>
internal static class Cli
{
    public const string DefaultConfDir = "/etc/cni/net.d";

    private const string Usage = """
        fwmark — a chained CNI plugin that marks the traffic of selected pods so policy routing
        can send it out another path (VPN, separate gateway).

        As a CNI plugin it is exec'd by the container runtime with CNI_COMMAND set.
        Operator commands (run without CNI_COMMAND):
          fwmark reconcile [--conf-dir DIR]   restore the table, every recorded attachment and the routing
          fwmark version                      print the plugin version and the CNI spec versions it speaks
          fwmark --help                       this text

        Configuration, selection rules and guarantees: see the README.
        """;

    private const string ReconcileUsage = """
        fwmark reconcile [--conf-dir DIR]

        Restores, in the current network namespace, everything fwmark owns: the policy routing
        of every mark that has a "route" in the fwmark plugin objects of the conflists in DIR
        (default /etc/cni/net.d) — for IPv4 and IPv6 the suppress and lookup rules, the default
        route and the fail-closed unreachable route of the mark's table — and, from the
        attachment records in /run/fwmark/attachments, the nftables table, its chains and every
        recorded attachment's set elements (with the routing its ADD made when no conflist in
        DIR routes that mark). Idempotent. Run it after anything that may have flushed nftables
        (nft flush ruleset, a firewall reload) and from the VPN's up-hook: a route through an
        interface disappears with the interface, and the plugin itself only runs when pods
        start or stop.

        Prints nothing and exits 0 when the node already matches; prints each repair and exits 0
        when it matches afterwards; exits 1 with an explanation when it does not (a broken config,
        an unreadable record, a gateway that cannot be reached yet, missing privileges).
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            stderr.WriteLine(Usage);
            return 2;
        }

        return args[0] switch
        {
            "-h" or "--help" or "help" => Print(stdout, Usage),
            "version" or "--version" => Version(stdout),
            "reconcile" => Reconcile(args[1..], stdout, stderr),
            _ => UsageError(stderr, $"unknown command \"{args[0]}\""),
        };
    }

    private static int Version(TextWriter stdout)
    {
        stdout.WriteLine($"fwmark {ThisAssembly.Version} (CNI {string.Join(", ", Cni.CniVersions.Supported)})");
        return 0;
    }

    private static int Reconcile(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var confDir = DefaultConfDir;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help":
                    return Print(stdout, ReconcileUsage);
                case "--conf-dir" when i + 1 < args.Length:
                    confDir = args[++i];
                    break;
                default:
                    return UsageError(stderr, $"reconcile: unexpected argument \"{args[i]}\"");
            }
        }

        if (!Directory.Exists(confDir))
        {
            stderr.WriteLine($"fwmark reconcile: failed to read conf dir {confDir}: no such directory");
            return 1;
        }

        var lockPath = StatePaths.LockPath;
        var reconciler = new Reconciler(new RtnetlinkRouting(lockPath: lockPath), stdout, new NftDataplane(lockPath: lockPath), StatePaths.Records());
        var outcome = reconciler.Run(ReadConflists(confDir));
        return outcome.NodeMatches ? 0 : 1;
    }

    /// <summary>The files libcni would consider, in its (lexical) order.</summary>
    private static IEnumerable<(string Path, string Text)> ReadConflists(string dir) =>
        Directory.EnumerateFiles(dir)
            .Where(f => Path.GetExtension(f) is ".conflist" or ".conf" or ".json")
            .Order(StringComparer.Ordinal)
            .Select(f => (f, File.ReadAllText(f)));

    private static int Print(TextWriter writer, string text)
    {
        writer.WriteLine(text);
        return 0;
    }

    private static int UsageError(TextWriter stderr, string problem)
    {
        stderr.WriteLine($"fwmark: {problem} (try fwmark --help)");
        return 2;
    }
}
