using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Fwmark.Core.Operator;

namespace Fwmark.Cli.Commands;

/// <summary><c>fwmark reconcile</c>: re-ensures the policy routing of every routed mark in the conf dir (<see cref="Reconciler"/>).</summary>
internal sealed class ReconcileCommand : ICliCommand
{
    public string Name => "reconcile";

    public string Summary => "re-ensure the ip rules and routes of every mark with \"route\"";

    public string Description => """
        Re-ensures, in the current network namespace, the policy routing of every mark that has a
        "route" in the fwmark plugin objects of the conflists in DIR: for IPv4 and IPv6 the suppress
        and lookup rules, the default route and the fail-closed unreachable route of the mark's
        table. Idempotent. Run it from the VPN's up-hook or a systemd unit: a route through an
        interface disappears with the interface, and the plugin itself only runs when pods start.
        Without --conf-dir, DIR is the conf dir recorded by `fwmark install` in
        /var/lib/fwmark/install.json, else /etc/cni/net.d (both under --root when given).

        Prints nothing and exits 0 when the node already matches; prints each repair and exits 0
        when it matches afterwards; exits 1 with an explanation when it does not (a conflist that
        cannot be read or parsed, a gateway that cannot be reached yet, missing privileges).
        JSON: {"confDir": DIR, "nodeMatches": bool, "repaired": N, "messages": ["...", ...]}
        """;

    /// <summary>As for install: k3s's conf dir is found through the install record under this root.</summary>
    private static readonly CliOption Root = new("--root", "DIR", "the host's root, for the conf dir `fwmark install` recorded (default /)");

    public IReadOnlyList<CliOption> Options => [CliOption.ConfDir, Root, CliOption.Json];

    public int Run(CliContext context)
    {
        // Without --conf-dir, the conf dir the last `fwmark install` recorded (k3s's is not /etc/cni/net.d).
        var confDir = context.Args.Value(CliOption.ConfDir) ?? InstalledConfDir.Find(context.Args.Value(Root, "/"));
        var messages = context.Args.Json ? new StringWriter() : context.Out;
        var (files, dirError) = ConfDir.Read(confDir);
        var matches = dirError is null;
        if (dirError is not null)
        {
            (context.Args.Json ? messages : context.Err).WriteLine(dirError);
        }

        foreach (var unreadable in files.Where(f => f.Error is not null))
        {
            messages.WriteLine(unreadable.Error);
            matches = false;
        }

        var readable = files.Where(f => f.Text is not null).Select(f => (f.Path, f.Text!));
        var outcome = dirError is null ? new Reconciler(context.Services.Routing(), messages).Run(readable) : new Reconciler.Outcome(false, 0);
        matches &= outcome.NodeMatches;
        if (context.Args.Json)
        {
            var lines = messages.ToString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            context.Out.WriteLine(CliJson.Serialize(new JsonObject
            {
                ["confDir"] = confDir,
                ["nodeMatches"] = matches,
                ["repaired"] = outcome.Repaired,
                ["messages"] = new JsonArray([.. lines.Select(l => (JsonNode)l)]),
            }));
        }

        return matches ? ExitCodes.Ok : ExitCodes.Failed;
    }

#pragma warning disable CA2255 // The command table is filled by module initializers on purpose: one file per command (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => CommandTable.Register(new ReconcileCommand());
#pragma warning restore CA2255
}
