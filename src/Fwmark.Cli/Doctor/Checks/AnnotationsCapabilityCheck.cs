using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Core.Selection;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>
/// Kubernetes pods choose their mark by annotation, which containerd and CRI-O pass only to plugins that
/// declare the capability. Heuristic for "this is Kubernetes": the network's main plugin is one only
/// Kubernetes uses (flannel, calico, cilium-cni, ...; see <see cref="Networks.KubernetesTypes"/>).
/// </summary>
internal sealed class AnnotationsCapabilityCheck : IDoctorCheck
{
    public string Id => "pod-annotations-capability";

    public int Order => 32;

    public string Title => "fwmark declares the pod-annotations capability (Kubernetes networks)";

    public string Meaning => "Without \"capabilities\": {\"io.kubernetes.cri.pod-annotations\": true} the runtime never sends pod annotations, so a pod annotated cni.fwmark.net/name starts unmarked and its traffic leaves through the main path.";

    public string Fix => "Add \"capabilities\": {\"io.kubernetes.cri.pod-annotations\": true} to the fwmark object (containerd >= 1.5, CRI-O >= 1.29).";

    public CheckResult Run(DoctorContext context)
    {
        var kubernetes = context.Fwmarks.Where(f => f.Network.Types.Any(Networks.KubernetesTypes.Contains)).ToList();
        if (kubernetes.Count == 0)
        {
            return CheckResult.Skip("no fwmark in a Kubernetes network (flannel, calico, cilium, ...)");
        }

        var findings = kubernetes
            .Where(f => !Declares(f.Plugin))
            .Select(f => new DoctorFinding($"{f.Network.Path}: fwmark does not declare {MarkSelector.AnnotationsCapability}, so annotated pods are not marked",
                $"add \"capabilities\": {{\"{MarkSelector.AnnotationsCapability}\": true}} to fwmark in {f.Network.Path}"))
            .ToList();
        return CheckResult.Of(findings);
    }

    private static bool Declares(JsonObject plugin) =>
        plugin["capabilities"] is JsonObject caps && caps[MarkSelector.AnnotationsCapability] is JsonValue v && v.GetValueKind() == JsonValueKind.True;

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new AnnotationsCapabilityCheck());
#pragma warning restore CA2255
}
