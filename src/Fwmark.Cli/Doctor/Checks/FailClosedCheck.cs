using System.Runtime.CompilerServices;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>
/// A steering table with a real route but no drop route leaks the moment the real route goes (the VPN
/// device is deleted or goes down and the kernel flushes its routes). Empty tables are
/// steering-table-empty's finding; marks configured with "failClosed": false opted out.
/// </summary>
internal sealed class FailClosedCheck : IDoctorCheck
{
    public string Id => "table-not-fail-closed";

    public int Order => 52;

    public string Title => "every steering table fails closed (unreachable default)";

    public string Meaning => "The table has a route now, but nothing that drops marked traffic once that route is gone: when the VPN interface goes down or away its routes are flushed and marked traffic leaks through the main path.";

    public string Fix => "For a mark with \"route\" (failClosed defaults to true): fwmark reconcile. Otherwise: ip route add unreachable default metric 4294967295 table T (and with ip -6).";

    public CheckResult Run(DoctorContext context)
    {
        if (context.Marks.Count == 0)
        {
            return CheckResult.Skip("no valid mark configured");
        }

        var findings = new List<DoctorFinding>();
        foreach (var (mark, family, rule) in SteeringTableEmptyCheck.RulesOf(context))
        {
            if (mark.Route is { FailClosed: false })
            {
                continue;
            }

            var routes = context.Node.Routes(family, rule.Table);
            var dropRuleAfter = context.Node.Rules(family).Any(r => !r.IsLookup && !r.HasOtherSelectors && r.Priority > rule.Priority && r.SelectsMark(mark.Mark.Value, mark.Mark.Mask));
            if (routes.Count == 0 || routes.Any(r => r.IsFailClosedDefault) || dropRuleAfter)
            {
                continue;
            }

            var fix = mark.Route is not null ? context.ReconcileFix : $"{DoctorContext.IpCommand(family)} route add unreachable default metric 4294967295 table {rule.Table}";
            findings.Add(new DoctorFinding($"{DoctorContext.FamilyName(family)}: table {rule.Table} of {mark.Describe()} has no unreachable/blackhole/prohibit default: marked traffic leaks when the VPN route goes", fix));
        }

        return CheckResult.Of(findings);
    }

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new FailClosedCheck());
#pragma warning restore CA2255
}
