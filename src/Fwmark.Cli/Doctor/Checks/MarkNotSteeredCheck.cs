using System.Runtime.CompilerServices;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>A mark nobody routes is set on packets that then take the main path: marked but not steered.</summary>
internal sealed class MarkNotSteeredCheck : IDoctorCheck
{
    public string Id => "mark-not-steered";

    public int Order => 50;

    public string Title => "every configured mark has an ip rule that steers it, IPv4 and IPv6";

    public string Meaning => "Pods with this mark are marked, but no policy routing rule looks at the mark in this family, so their traffic leaves through the main table's default route: the VPN is bypassed without any error.";

    public string Fix => "For a mark with \"route\": fwmark reconcile (it makes the rules). Without \"route\": add one, or create the rules yourself (ip rule add pref P fwmark V/M lookup T, for ip and ip -6).";

    public CheckResult Run(DoctorContext context)
    {
        if (context.Marks.Count == 0)
        {
            return CheckResult.Skip("no valid mark configured");
        }

        var findings = new List<DoctorFinding>();
        foreach (var mark in context.Marks)
        {
            foreach (var family in DoctorContext.Families)
            {
                if (context.SteeringRules(family, mark).Any())
                {
                    continue;
                }

                var fix = mark.Route is not null
                    ? context.ReconcileFix
                    : $"add \"route\": {{\"table\": T, ...}} to mark {mark.Mark.Name} in {mark.Path}, or {DoctorContext.IpCommand(family)} rule add pref 1001 fwmark 0x{mark.Mark.Value:x}/0x{mark.Mark.Mask:x} lookup T";
                findings.Add(new DoctorFinding($"{DoctorContext.FamilyName(family)}: {mark.Describe()} has no ip rule that looks it up: marked traffic takes the main path", fix));
            }
        }

        return CheckResult.Of(findings);
    }

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new MarkNotSteeredCheck());
#pragma warning restore CA2255
}
