using Fwmark.Core.Paths;

namespace Fwmark.Core.Status;

/// <summary>
/// What <c>fwmark status</c> shows (and the metrics export): every attachment with its counters, every mark with its
/// totals and routing, whether the agent runs. Built by <see cref="StatusCollector"/> from the kernel and the
/// attachment records only. Its JSON form (<see cref="StatusJson"/>) is versioned by <see cref="SchemaVersion"/>.
/// </summary>
/// <param name="Problems">Sources that could not be read (nf_tables, records, conflists), one sentence each.</param>
public sealed record StatusReport(
    DateTimeOffset Time,
    string ConfDir,
    AgentStatus Agent,
    TableStatus Table,
    IReadOnlyList<MarkStatus> Marks,
    IReadOnlyList<AttachmentStatus> Attachments,
    IReadOnlyList<string> Problems)
{
    /// <summary>Bumped only when a field changes meaning or goes away; new fields keep the version.</summary>
    public const int SchemaVersion = 1;
}

/// <summary>Whether an agent runs (its heartbeat, see <see cref="Operator.AgentHeartbeat"/>) and, if not, why not.</summary>
public sealed record AgentStatus(bool Running, string? Problem);

/// <summary>The plugin's table: present at all, and whether its sets count per element.</summary>
public sealed record TableStatus(bool Present, bool Counters);

/// <summary>
/// One mark (value/mask/connmark = one mark chain): its name in the conflists (null when none names it), how many
/// attachments it holds, their summed counters (null when some element has no counter), and its routing when a
/// conflist gives it a <c>route</c>.
/// </summary>
public sealed record MarkStatus(string? Name, MarkSpec Mark, bool Configured, int Attachments, ulong? Packets, ulong? Bytes, RoutingStatus? Routing)
{
    /// <summary>How metrics and the text name the mark: its name, else its chain's.</summary>
    public string Label => Name ?? Mark.Value.ToString("x") + "/" + Mark.Mask.ToString("x");
}

/// <summary>
/// The kernel's routing of one routed mark: its table, the VPN device and whether it is up (null: it does not
/// exist), per family the rule, the routes of the table and the kill switch, and what <c>fwmark reconcile</c>
/// would repair (the plugin's own verification).
/// </summary>
public sealed record RoutingStatus(uint Table, string? Device, bool? DeviceUp, FamilyRouting IPv4, FamilyRouting IPv6, IReadOnlyList<string> Problems);

/// <param name="Wanted">The route gives this family a default route (a gateway or a device).</param>
/// <param name="Rule">An ip rule sends packets of the mark to the table.</param>
/// <param name="Routes">The table's routes, as text.</param>
/// <param name="DefaultRoute">The table has a unicast default route (the way out).</param>
/// <param name="KillSwitch">The table has the fail-closed default route (unreachable, blackhole or prohibit).</param>
public sealed record FamilyRouting(bool Wanted, bool Rule, IReadOnlyList<string> Routes, bool DefaultRoute, bool KillSwitch);

/// <summary>How an attachment's kernel elements and its record agree.</summary>
public enum AttachmentState
{
    /// <summary>A record, and every recorded key is in the kernel.</summary>
    Ok,

    /// <summary>A record, some of its keys in the kernel and some not.</summary>
    Partial,

    /// <summary>A record, none of its keys in the kernel: its pod is not marked.</summary>
    NotInKernel,

    /// <summary>Kernel elements without a record (records not kept, lost, or an element added by hand).</summary>
    NoRecord,
}

/// <summary>
/// One attachment (network, container, ifname): who it is (from its record, else from the owner tag of its
/// elements), its mark, and its keys (addresses, or interface names for interface-keyed marking) with their counters.
/// </summary>
/// <param name="Comment">The element comment when it is not a fwmark owner tag (an element added by hand).</param>
public sealed record AttachmentStatus(
    string? Network,
    string? ContainerId,
    string? IfName,
    string? PodNamespace,
    string? PodName,
    string? MarkName,
    MarkSpec Mark,
    AttachmentState State,
    IReadOnlyList<KeyStatus> Keys,
    string? Comment)
{
    /// <summary>The sum over its kernel keys; null when one of them has no counter.</summary>
    public ulong? Packets => Sum(c => c.Packets);

    public ulong? Bytes => Sum(c => c.Bytes);

    private ulong? Sum(Func<ElementCounter, ulong> part)
    {
        var inKernel = Keys.Where(k => k.InKernel).ToList();
        return inKernel.Count == 0 || inKernel.Any(k => k.Counter is null) ? null : inKernel.Aggregate(0UL, (sum, k) => sum + part(k.Counter!));
    }
}

/// <summary>One key of an attachment: where it is (kernel, record or both) and its counter.</summary>
public sealed record KeyStatus(MarkedKeyKind Kind, string Key, bool InKernel, bool InRecord, ElementCounter? Counter)
{
    /// <summary>The path whose set holds (or should hold) the key: an address set, a bridge port or a routed input interface.</summary>
    public MarkKeying Keying { get; init; } = MarkKeying.Address;
}
