using System.Runtime.CompilerServices;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>A chained plugin needs the main plugin's prevResult: fwmark first, or a main plugin after it, cannot work.</summary>
internal sealed class PluginOrderCheck : IDoctorCheck
{
    public string Id => "fwmark-before-main-plugin";

    public int Order => 31;

    public string Title => "fwmark comes after the main plugin";

    public string Meaning => "fwmark marks the addresses the main plugin (bridge, flannel, calico...) reports in prevResult. Placed first it gets no prevResult and ADD fails; placed before a main plugin it never sees that plugin's addresses.";

    public string Fix => "Move the fwmark object to the end of the plugins list (after the main plugin; portmap, tuning and bandwidth may come either side).";

    public CheckResult Run(DoctorContext context)
    {
        var findings = new List<DoctorFinding>();
        foreach (var entry in context.Fwmarks)
        {
            var after = entry.Network.Plugins.Skip(entry.Index + 1).Select(Network.TypeOf).OfType<string>().Where(Networks.MainPluginTypes.Contains).ToList();
            if (entry.Index == 0)
            {
                findings.Add(new DoctorFinding($"{entry.Network.Path}: fwmark is the first plugin: it gets no prevResult, so ADD fails", $"move fwmark after the main plugin in {entry.Network.Path}"));
            }
            else if (after.Count > 0)
            {
                findings.Add(new DoctorFinding($"{entry.Network.Path}: fwmark comes before the main plugin {after[0]}", $"move fwmark after {after[0]} in {entry.Network.Path}"));
            }
        }

        return context.Fwmarks.Count == 0 ? CheckResult.Skip("no conflist has fwmark") : CheckResult.Of(findings);
    }

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new PluginOrderCheck());
#pragma warning restore CA2255
}
