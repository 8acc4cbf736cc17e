using System.Net.Sockets;
using Fwmark.Core.Inspection;
using Fwmark.Core.Routing;

namespace Fwmark.Cli.Doctor;

/// <summary>What every check reads: the doctor's options, the conf dir as parsed once, and the node.</summary>
public sealed class DoctorContext
{
    public const string DefaultBinDir = "/opt/cni/bin";
    public const string DefaultCiliumStateDir = "/var/run/cilium/state";

    private readonly Lazy<INodeView> _node;
    private readonly Lazy<IRouting> _routing;

    public DoctorContext(string confDir, Func<INodeView> node, Func<IRouting> routing, DateTime nowUtc)
    {
        ConfDir = confDir;
        _node = new Lazy<INodeView>(node);
        _routing = new Lazy<IRouting>(routing);
        NowUtc = nowUtc;
        (Files, DirError) = Fwmark.Cli.ConfDir.Read(confDir);
        var networks = new List<Network>();
        var errors = new List<string>();
        foreach (var file in Files)
        {
            var (network, error) = Doctor.Networks.Parse(file);
            if (network is not null)
            {
                networks.Add(network);
            }
            else
            {
                errors.Add(error!);
            }
        }

        Networks = networks;
        ParseErrors = errors;
        Fwmarks = [.. networks.SelectMany(Doctor.Networks.FwmarkEntries)];
        Marks = [.. Fwmarks
            .Where(e => e.Config is not null)
            .SelectMany(e => e.Config!.Marks.Values.Select(m => new ConfiguredMark(m, e.Config.Routes.GetValueOrDefault(m.Name), e.Config.Connmark, e.Network.Path)))
            .DistinctBy(m => (m.Mark.Value, m.Mark.Mask, m.Route))];
    }

    public string ConfDir { get; }

    public string BinDir { get; init; } = DefaultBinDir;

    public string RunDir { get; init; } = Core.Operator.AgentHeartbeat.DefaultRunDir;

    public string CiliumStateDir { get; init; } = DefaultCiliumStateDir;

    public DateTime NowUtc { get; }

    public IReadOnlyList<ConfFile> Files { get; }

    /// <summary>Why the conf dir itself could not be listed, or null.</summary>
    public string? DirError { get; }

    /// <summary>The conf files that parsed, in the order libcni lists them: the first is what a CRI runtime loads.</summary>
    public IReadOnlyList<Network> Networks { get; }

    /// <summary>One sentence per conf file that could not be read or is not JSON.</summary>
    public IReadOnlyList<string> ParseErrors { get; }

    public IReadOnlyList<FwmarkEntry> Fwmarks { get; }

    /// <summary>Every valid configured mark, once per value/mask/route.</summary>
    public IReadOnlyList<ConfiguredMark> Marks { get; }

    public INodeView Node => _node.Value;

    /// <summary>The plugin's own routing backend: its Verify is what CHECK reports, object by object.</summary>
    public IRouting Routing => _routing.Value;

    public static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    public static string FamilyName(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    public static string IpCommand(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? "ip -6" : "ip";

    /// <summary>Rules that send packets of <paramref name="mark"/> to a table of their own (not main/local/default).</summary>
    public IEnumerable<NodeRule> SteeringRules(AddressFamily family, ConfiguredMark mark) =>
        Node.Rules(family).Where(r => r.IsLookup && !r.HasOtherSelectors && r.SelectsMark(mark.Mark.Value, mark.Mark.Mask) && r.Table is not (0 or 253 or 254 or 255));

    /// <summary>The fix for routing a routed mark is always the same command; an unrouted mark's rules are the operator's.</summary>
    public string ReconcileFix => $"fwmark reconcile --conf-dir {ConfDir}";
}
