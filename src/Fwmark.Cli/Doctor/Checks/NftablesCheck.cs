using System.Runtime.CompilerServices;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>The plugin programs nf_tables over netlink: without it no pod can be marked.</summary>
internal sealed class NftablesCheck : IDoctorCheck
{
    public string Id => "nftables-unusable";

    public int Order => 10;

    public string Title => "nf_tables can be programmed";

    public string Meaning => "The plugin cannot create its table: every ADD of a pod that needs a mark fails (the pod does not start), and STATUS reports the plugin unavailable.";

    public string Fix => "Load the module (modprobe nf_tables) and run fwmark as root with CAP_NET_ADMIN; a kernel without CONFIG_NF_TABLES cannot run fwmark.";

    public CheckResult Run(DoctorContext context) =>
        context.Node.NftablesProblem() is { } problem
            ? CheckResult.Of([new DoctorFinding($"nf_tables is not usable: {problem}", "modprobe nf_tables; run as root (CAP_NET_ADMIN)")])
            : CheckResult.Ok();

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new NftablesCheck());
#pragma warning restore CA2255
}
