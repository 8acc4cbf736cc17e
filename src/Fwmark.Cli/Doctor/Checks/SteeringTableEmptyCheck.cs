using System.Runtime.CompilerServices;
using Fwmark.Core.Inspection;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>A lookup into an empty table matches nothing, and the kernel goes on to the next rule: main.</summary>
internal sealed class SteeringTableEmptyCheck : IDoctorCheck
{
    public string Id => "steering-table-empty";

    public int Order => 51;

    public string Title => "the table each mark's rule looks up has routes";

    public string Meaning => "When a rule's table holds no route the kernel continues with the next rule, normally the main table: marked traffic leaks through the main default route. This is what happens when the VPN interface is deleted and no fail-closed route was added.";

    public string Fix => "For a mark with \"route\": fwmark reconcile (it adds the default and the unreachable route). Otherwise: ip route add default via GW dev DEV table T; ip route add unreachable default metric 4294967295 table T (and with ip -6).";

    public CheckResult Run(DoctorContext context)
    {
        if (context.Marks.Count == 0)
        {
            return CheckResult.Skip("no valid mark configured");
        }

        var findings = new List<DoctorFinding>();
        foreach (var (mark, family, rule) in RulesOf(context))
        {
            if (context.Node.Routes(family, rule.Table).Count == 0)
            {
                var fix = mark.Route is not null
                    ? context.ReconcileFix
                    : $"{DoctorContext.IpCommand(family)} route add unreachable default metric 4294967295 table {rule.Table} (and the default route through the VPN)";
                findings.Add(new DoctorFinding($"{DoctorContext.FamilyName(family)}: rule \"{rule}\" of {mark.Describe()} points to table {rule.Table}, which is empty: marked traffic falls through to main", fix));
            }
        }

        return CheckResult.Of(findings);
    }

    internal static IEnumerable<(ConfiguredMark Mark, System.Net.Sockets.AddressFamily Family, NodeRule Rule)> RulesOf(DoctorContext context) =>
        from mark in context.Marks
        from family in DoctorContext.Families
        from rule in context.SteeringRules(family, mark)
        select (mark, family, rule);

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new SteeringTableEmptyCheck());
#pragma warning restore CA2255
}
