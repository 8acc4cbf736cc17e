using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Fwmark.Core.Inspection;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>
/// Replies of steered flows come back on the VPN interface; strict reverse-path filtering drops them
/// unless the reverse lookup sees the mark, which needs the mark restored on the reply (connmark) and
/// src_valid_mark. IPv4 only: IPv6 has no rp_filter sysctl. Steering interfaces: each routed mark's
/// "device" and the devices of the routes in the tables its rules look up.
/// </summary>
internal sealed class RpFilterCheck : IDoctorCheck
{
    public string Id => "rp-filter-strict";

    public int Order => 60;

    public string Title => "strict rp_filter on a steering interface comes with connmark and src_valid_mark";

    public string Meaning => "With rp_filter=1 (effective value is the higher of conf/all and conf/DEV) the kernel checks each reply arriving on the VPN interface against the route back to its source; without the mark that route is main's, so the replies are dropped as martians: marked pods' connections hang.";

    public string Fix => "Set \"connmark\": true in the fwmark object and sysctl -w net.ipv4.conf.all.src_valid_mark=1, or use loose mode on that interface: sysctl -w net.ipv4.conf.DEV.rp_filter=2 (with conf.all.rp_filter <= 2).";

    public CheckResult Run(DoctorContext context)
    {
        var devices = new Dictionary<string, List<ConfiguredMark>>(StringComparer.Ordinal);
        foreach (var mark in context.Marks)
        {
            var names = context.SteeringRules(AddressFamily.InterNetwork, mark)
                .SelectMany(r => context.Node.Routes(AddressFamily.InterNetwork, r.Table))
                .Where(r => r.Type == NodeRouteType.Unicast && r.Device is not null)
                .Select(r => r.Device!)
                .Append(mark.Route?.Device)
                .OfType<string>()
                .Distinct();
            foreach (var name in names)
            {
                (devices.TryGetValue(name, out var list) ? list : devices[name] = []).Add(mark);
            }
        }

        if (devices.Count == 0)
        {
            return CheckResult.Skip("no steering interface (no mark routes through a device)");
        }

        var all = Read(context, "all", "rp_filter");
        var allValid = Read(context, "all", "src_valid_mark") == 1;
        var findings = new List<DoctorFinding>();
        foreach (var (device, marks) in devices.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            if (context.Node.Sysctl($"net/ipv4/conf/{device}/rp_filter") is null)
            {
                continue; // the device does not exist (yet): nothing can arrive on it
            }

            var effective = Math.Max(all, Read(context, device, "rp_filter"));
            if (effective != 1)
            {
                continue;
            }

            var srcValid = allValid || Read(context, device, "src_valid_mark") == 1;
            var withoutConnmark = marks.Where(m => !m.Connmark).ToList();
            if (srcValid && withoutConnmark.Count == 0)
            {
                continue;
            }

            var missing = new List<string>();
            var fixes = new List<string>();
            if (withoutConnmark.Count > 0)
            {
                missing.Add($"connmark is off for {string.Join(", ", withoutConnmark.Select(m => m.Describe()))}");
                fixes.AddRange(withoutConnmark.Select(m => m.Path).Distinct().Select(p => $"set \"connmark\": true in {p}"));
            }

            if (!srcValid)
            {
                missing.Add("src_valid_mark is 0");
                fixes.Add("sysctl -w net.ipv4.conf.all.src_valid_mark=1");
            }

            findings.Add(new DoctorFinding(
                $"{device}: rp_filter is strict (1) and {string.Join(" and ", missing)}: replies of steered flows arriving on {device} are dropped",
                $"{string.Join("; ", fixes)} (or: sysctl -w net.ipv4.conf.{device}.rp_filter=2)"));
        }

        return CheckResult.Of(findings);
    }

    private static int Read(DoctorContext context, string device, string key) =>
        int.TryParse(context.Node.Sysctl($"net/ipv4/conf/{device}/{key}"), out var value) ? value : 0;

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new RpFilterCheck());
#pragma warning restore CA2255
}
