using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>
/// Cilium's eBPF host routing redirects pod traffic in tc programs, past the host's netfilter hooks and
/// FIB rules: the mark is never set, the rules never consulted. Heuristic (no Cilium API needed): Cilium
/// is present when a conflist uses the cilium-cni plugin or the cilium_host interface exists; the agent
/// renders its datapath config into STATE_DIR/globals/node_config.h, which defines ENABLE_HOST_ROUTING
/// exactly when host routing runs in eBPF (bpf.hostLegacyRouting=false). When that file cannot be read
/// the check assumes eBPF host routing, Cilium's default with kube-proxy replacement on kernels >= 5.10.
/// </summary>
internal sealed partial class CiliumHostRoutingCheck : IDoctorCheck
{
    public const string Define = "ENABLE_HOST_ROUTING";

    public string Id => "cilium-bpf-host-routing";

    public int Order => 80;

    public string Title => "Cilium does not route pods in eBPF (which bypasses netfilter)";

    public string Meaning => "With eBPF host routing Cilium forwards pod packets from tc programs straight to the egress device: the host's netfilter prerouting hook never sees them (no mark is set) and ip rules are not consulted, so every pod takes Cilium's path, VPN or not.";

    public string Fix => "Enable legacy host routing: helm --set bpf.hostLegacyRouting=true (cilium-config: enable-host-legacy-routing: \"true\"), then restart the Cilium agents.";

    public static bool CiliumPresent(DoctorContext context) =>
        context.Networks.Any(n => n.Types.Contains("cilium-cni")) || context.Node.HasLink("cilium_host");

    [GeneratedRegex(@"^\s*#\s*define\s+ENABLE_HOST_ROUTING\b", RegexOptions.Multiline)]
    private static partial Regex DefinesHostRouting();

    public CheckResult Run(DoctorContext context)
    {
        if (!CiliumPresent(context))
        {
            return CheckResult.Skip("no Cilium on this node (no cilium-cni conflist, no cilium_host interface)");
        }

        var config = Path.Combine(context.CiliumStateDir, "globals", "node_config.h");
        string text;
        try
        {
            text = File.ReadAllText(config);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CheckResult.Of([new DoctorFinding(
                $"Cilium is present but {config} cannot be read ({e.GetType().Name}), so eBPF host routing (its default with kube-proxy replacement) is assumed",
                "check with: cilium config view | grep host-legacy-routing; or pass --cilium-state-dir")]);
        }

        return DefinesHostRouting().IsMatch(text)
            ? CheckResult.Of([new DoctorFinding($"Cilium routes pods in eBPF ({config} defines {Define}): fwmark's marks and rules are bypassed", "helm upgrade cilium ... --set bpf.hostLegacyRouting=true")])
            : CheckResult.Ok($"{config} does not define {Define}: legacy host routing");
    }

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new CiliumHostRoutingCheck());
#pragma warning restore CA2255
}
