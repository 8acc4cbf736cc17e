using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Fwmark.Core.Operator;

namespace Fwmark.Cli.Commands;

/// <summary><c>fwmark reconcile</c>: re-ensures the policy routing of every routed mark in the conf dir (<see cref="Reconciler"/>).</summary>
internal sealed class ReconcileCommand : ICliCommand
{
    public string Name => "reconcile";

    public string Summary => "restore the table, every recorded attachment and the routing";

    public string Description => """
        Restores, in the current network namespace, everything fwmark owns: the policy routing of
        every mark that has a "route" in the fwmark plugin objects of the conflists in DIR (for IPv4
        and IPv6 the suppress and lookup rules, the default route and the fail-closed unreachable
        route of the mark's table) and, from the attachment records in /run/fwmark/attachments
        (FWMARK_RUN_DIR moves it), the nftables table, its chains and every recorded attachment's
        set elements, with the routing its ADD made when no conflist in DIR routes that mark.
        Idempotent. Run it after anything that may have flushed nftables (nft flush ruleset, a
        firewall reload) and from the VPN's up-hook: a route through an interface disappears with
        the interface, and the plugin itself only runs when pods start or stop.
        Without --conf-dir, DIR is the conf dir recorded by `fwmark install` in
        /var/lib/fwmark/install.json, else /etc/cni/net.d (both under --root when given).

        Prints nothing and exits 0 when the node already matches; prints each repair and exits 0
        when it matches afterwards; exits 1 with an explanation when it does not (a conflist that
        cannot be read or parsed, an unreadable record, a gateway that cannot be reached yet,
        missing privileges).
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
        var outcome = dirError is null ? NewReconciler(context.Services, messages).Run(readable) : new Reconciler.Outcome(false, 0);
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

    /// <summary>With the plugin's attachment records (when it keeps any), reconcile also restores the table and every recorded attachment.</summary>
    private static Reconciler NewReconciler(IFwmarkServices services, TextWriter messages) =>
        services.Records() is { } records
            ? new Reconciler(services.Routing(), messages, services.Dataplane(), records)
            : new Reconciler(services.Routing(), messages);

#pragma warning disable CA2255 // The command table is filled by module initializers on purpose: one file per command (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => CommandTable.Register(new ReconcileCommand());
#pragma warning restore CA2255
}
