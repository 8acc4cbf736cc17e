using System.Runtime.CompilerServices;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>
/// For marks with "route" the plugin knows exactly which rules and routes must exist; this runs the same
/// verification CHECK does and reports each object that is missing or different, in ip syntax. Broader
/// checks (mark-not-steered, steering-table-empty) say what the consequence is; this one says what to look at.
/// </summary>
internal sealed class RoutingDiffersCheck : IDoctorCheck
{
    public string Id => "routing-differs";

    public int Order => 53;

    public string Title => "the rules and routes of every mark with \"route\" are as configured";

    public string Meaning => "An object the plugin keeps for a routed mark is missing or different (a suppress rule deleted, the default route gone with its device, the mark moved to another table): depending on which, marked traffic is dropped, leaks, or takes a path nobody configured.";

    public string Fix => "fwmark reconcile re-creates them (run it from the VPN's up-hook); a default route that cannot be added yet names its device.";

    public CheckResult Run(DoctorContext context)
    {
        var routed = context.Marks.Where(m => m.Route is not null).ToList();
        if (routed.Count == 0)
        {
            return CheckResult.Skip("no mark has \"route\"");
        }

        var findings = routed
            .SelectMany(m => context.Routing.Verify(m.Mark, m.Route!).Select(problem => new DoctorFinding($"{m.Describe()}: {problem}", context.ReconcileFix)))
            .ToList();
        return CheckResult.Of(findings);
    }

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new RoutingDiffersCheck());
#pragma warning restore CA2255
}
