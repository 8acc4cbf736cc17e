using System.Runtime.CompilerServices;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>
/// Other node software writes and matches packet mark bits too. fwmark only writes the bits of its mask,
/// but a mask that shares bits with someone else's means either of us can rewrite or misread the other's
/// mark. Who is on the node is judged from footprints (see <see cref="Users"/>): Kubernetes' bits always
/// count; the others only when their conflist plugin, interface or ip rules are present.
/// </summary>
internal sealed class MarkBitsCheck : IDoctorCheck
{
    /// <summary>Who uses which bits, and how doctor tells they are here (values from their sources).</summary>
    internal static readonly IReadOnlyList<BitUser> Users =
    [
        new("kube-proxy/kubelet", 0x0000c000, "masquerade bit 0x4000 and drop bit 0x8000", _ => true),
        new("portmap", 0x00002000, "masquerade bit 0x2000", c => c.Networks.Any(n => n.Types.Contains("portmap"))),
        new("Calico", 0xffff0000, "iptablesMarkMask 0xffff0000", c => c.Networks.Any(n => n.Types.Contains("calico")) || c.Node.HasLink("vxlan.calico") || c.Node.HasLink("wireguard.cali")),
        new("Cilium", 0xffffffff, "identity 0xffff00ff, magic 0x0f00, Kubernetes 0xf000: every bit", c => CiliumHostRoutingCheck.CiliumPresent(c)),
        new("Tailscale", 0x00ff0000, "mask 0xff0000 (0x40000 subnet route, 0x80000 bypass)", c => c.Node.HasLink("tailscale0") || HasRule(c, r => r.Mask == 0x00ff0000)),
        new("WireGuard (wg-quick)", 0x0000ca6c, "fwmark 51820 (0xca6c), matched exactly", c => HasRule(c, r => r.Mark == 51820 || r.Table == 51820)),
        new("Mullvad", 0x6d6f6c65, "fwmark 0x6d6f6c65, matched exactly", c => HasRule(c, r => r.Mark == 0x6d6f6c65)),
    ];

    public string Id => "mark-bits-collide";

    public int Order => 70;

    public string Title => "mark bits do not overlap those of other node software";

    public string Meaning => "Another component on this node sets or matches the same mark bits: it may clear or overwrite fwmark's bits (its pods then leave unmarked), or its own rules may catch fwmark's packets (masquerade, drop, a tunnel of its own).";

    public string Fix => "Pick a mark and mask outside the bits listed (on flannel/k3s/Calico-iptables nodes the low byte, e.g. 0x10/0x10, is free); change marks.<name> in the conflist, then fwmark reconcile.";

    public CheckResult Run(DoctorContext context)
    {
        if (context.Marks.Count == 0)
        {
            return CheckResult.Skip("no valid mark configured");
        }

        var present = Users.Where(u => u.IsPresent(context)).ToList();
        var findings = new List<DoctorFinding>();
        foreach (var mark in context.Marks)
        {
            foreach (var user in present.Where(u => (u.Bits & mark.Mark.Mask) != 0))
            {
                findings.Add(new DoctorFinding(
                    $"{mark.Describe()} shares bits 0x{user.Bits & mark.Mark.Mask:x} with {user.Name} ({user.Uses})",
                    $"choose a mask without bits 0x{user.Bits:x} for mark {mark.Mark.Name} in {mark.Path}"));
            }
        }

        return CheckResult.Of(findings, $"checked against {string.Join(", ", present.Select(u => u.Name))}");
    }

    private static bool HasRule(DoctorContext context, Func<Core.Inspection.NodeRule, bool> predicate) =>
        DoctorContext.Families.Any(f => context.Node.Rules(f).Any(predicate));

    internal sealed record BitUser(string Name, uint Bits, string Uses, Func<DoctorContext, bool> IsPresent);

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new MarkBitsCheck());
#pragma warning restore CA2255
}
