using Fwmark.Core.Status;

namespace Fwmark.Core.Metrics;

/// <summary>
/// The metric families derived from a <see cref="StatusReport"/>: what <c>fwmark status --prometheus</c> writes and
/// what the agent's /metrics serves besides its own (docs/agent.md lists them all). Counters come from the kernel's
/// per-element counters, so they restart at 0 when an element is made again (a pod re-added, a set re-made): a
/// counter reset, which Prometheus' rate() handles.
/// </summary>
public static class StatusMetrics
{
    public static void Write(PrometheusWriter writer, StatusReport report, bool includeAgentHeartbeat)
    {
        // Only attachments with an owner: elements added by hand have no identity to label (they are counted in fwmark_attachments).
        var counted = report.Attachments.Where(a => a.Packets is not null && a.ContainerId is not null).ToList();
        writer.Family("fwmark_attachment_packets_total", "counter", "Packets the kernel marked for one attachment (sum of its elements' counters).");
        foreach (var a in counted)
        {
            writer.Sample("fwmark_attachment_packets_total", a.Packets!.Value, Labels(a));
        }

        writer.Family("fwmark_attachment_bytes_total", "counter", "Bytes the kernel marked for one attachment (sum of its elements' counters).");
        foreach (var a in counted)
        {
            writer.Sample("fwmark_attachment_bytes_total", a.Bytes!.Value, Labels(a));
        }

        writer.Family("fwmark_attachments", "gauge", "Attachments by mark and by how the kernel and the records agree (ok, partial, not-in-kernel, no-record).");
        foreach (var group in report.Attachments.GroupBy(a => (Mark: MarkLabel(report, a.Mark, a.MarkName), State: StatusJson.StateName(a.State))).OrderBy(g => g.Key.Mark, StringComparer.Ordinal).ThenBy(g => g.Key.State, StringComparer.Ordinal))
        {
            writer.Sample("fwmark_attachments", group.Count(), ("mark", group.Key.Mark), ("state", group.Key.State));
        }

        writer.Family("fwmark_mark_packets_total", "counter", "Packets marked with one mark: the sum over its elements now in the kernel.");
        foreach (var mark in report.Marks.Where(m => m.Packets is not null))
        {
            writer.Sample("fwmark_mark_packets_total", mark.Packets!.Value, MarkLabels(mark));
        }

        writer.Family("fwmark_mark_bytes_total", "counter", "Bytes marked with one mark: the sum over its elements now in the kernel.");
        foreach (var mark in report.Marks.Where(m => m.Bytes is not null))
        {
            writer.Sample("fwmark_mark_bytes_total", mark.Bytes!.Value, MarkLabels(mark));
        }

        var routed = report.Marks.Where(m => m.Routing is not null).ToList();
        writer.Family("fwmark_mark_rule_present", "gauge", "1 when an ip rule sends the mark's packets to its table (per family).");
        foreach (var (mark, family, routing) in Families(routed))
        {
            writer.Sample("fwmark_mark_rule_present", routing.Rule ? 1 : 0, [.. MarkLabels(mark), ("family", family)]);
        }

        writer.Family("fwmark_mark_default_route_present", "gauge", "1 when the mark's table has a unicast default route, for the families its route configures.");
        foreach (var (mark, family, routing) in Families(routed).Where(f => f.Routing.Wanted))
        {
            writer.Sample("fwmark_mark_default_route_present", routing.DefaultRoute ? 1 : 0, [.. MarkLabels(mark), ("family", family)]);
        }

        writer.Family("fwmark_mark_kill_switch_present", "gauge", "1 when the mark's table has the fail-closed default route (unreachable, blackhole or prohibit).");
        foreach (var (mark, family, routing) in Families(routed))
        {
            writer.Sample("fwmark_mark_kill_switch_present", routing.KillSwitch ? 1 : 0, [.. MarkLabels(mark), ("family", family)]);
        }

        writer.Family("fwmark_mark_device_up", "gauge", "1 when the mark's route device exists and is up, 0 when it is down or missing.");
        foreach (var mark in routed.Where(m => m.Routing!.Device is not null))
        {
            writer.Sample("fwmark_mark_device_up", mark.Routing!.DeviceUp == true ? 1 : 0, [.. MarkLabels(mark), ("device", mark.Routing.Device!)]);
        }

        writer.Family("fwmark_mark_routing_problems", "gauge", "What `fwmark reconcile` would repair for the mark (0 = the routing is as fwmark makes it).");
        foreach (var mark in routed)
        {
            writer.Sample("fwmark_mark_routing_problems", mark.Routing!.Problems.Count, MarkLabels(mark));
        }

        writer.Family("fwmark_table_present", "gauge", "1 when table inet fwmark exists in this network namespace.");
        writer.Sample("fwmark_table_present", report.Table.Present ? 1 : 0);
        writer.Family("fwmark_counters_available", "gauge", "0 when some set was made without per-element counters (an older fwmark) and its attachments are not counted.");
        writer.Sample("fwmark_counters_available", report.Table.Counters ? 1 : 0);
        writer.Family("fwmark_status_read_problems", "gauge", "Sources (nf_tables, records, conflists) that could not be read for this report.");
        writer.Sample("fwmark_status_read_problems", report.Problems.Count);
        if (includeAgentHeartbeat)
        {
            writer.Family("fwmark_agent_running", "gauge", "1 when the agent's heartbeat is fresh and names a live process.");
            writer.Sample("fwmark_agent_running", report.Agent.Running ? 1 : 0);
        }
    }

    private static IEnumerable<(MarkStatus Mark, string Family, FamilyRouting Routing)> Families(IEnumerable<MarkStatus> routed) =>
        routed.SelectMany(m => new[] { (m, "ipv4", m.Routing!.IPv4), (m, "ipv6", m.Routing!.IPv6) });

    private static (string, string)[] MarkLabels(MarkStatus mark) =>
        [("mark", mark.Label), ("value", $"0x{mark.Mark.Value:x}"), ("mask", $"0x{mark.Mark.Mask:x}")];

    private static string MarkLabel(StatusReport report, MarkSpec mark, string? name) =>
        name ?? report.Marks.FirstOrDefault(m => m.Mark.Value == mark.Value && m.Mark.Mask == mark.Mask && m.Mark.Connmark == mark.Connmark)?.Label
        ?? $"{mark.Value:x}/{mark.Mask:x}";

    private static (string, string)[] Labels(AttachmentStatus a) =>
    [
        ("network", a.Network ?? ""),
        ("container", a.ContainerId ?? ""),
        ("ifname", a.IfName ?? ""),
        ("pod_namespace", a.PodNamespace ?? ""),
        ("pod_name", a.PodName ?? ""),
        ("mark", a.MarkName ?? $"{a.Mark.Value:x}/{a.Mark.Mask:x}"),
    ];
}
