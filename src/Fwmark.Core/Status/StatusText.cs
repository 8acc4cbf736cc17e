using System.Globalization;
using System.Text;
using Fwmark.Core.Paths;

namespace Fwmark.Core.Status;

/// <summary>The readable form of a <see cref="StatusReport"/>: a header, one block per mark, one table of attachments.</summary>
public static class StatusText
{
    public static string Format(StatusReport report)
    {
        var text = new StringBuilder();
        text.AppendLine($"agent: {(report.Agent.Running ? "running" : $"not running ({report.Agent.Problem})")}");
        text.AppendLine(!report.Table.Present
            ? "table inet fwmark: absent (no pod has been marked in this network namespace, or the table was deleted)"
            : report.Table.Counters
                ? "table inet fwmark: present; a counter on every element (bridge fwmark's port sets too)"
                : "table inet fwmark: present; counters unavailable for sets made by an older fwmark (the next ADD or `fwmark reconcile` re-makes them with counters)");
        foreach (var problem in report.Problems)
        {
            text.AppendLine($"problem: {problem}");
        }

        foreach (var mark in report.Marks)
        {
            text.AppendLine();
            var connmark = mark.Mark.Connmark ? ", connmark" : "";
            var configured = mark.Configured ? "" : " (in the kernel, no conflist configures it)";
            text.AppendLine($"mark {mark.Label} (0x{mark.Mark.Value:x}/0x{mark.Mark.Mask:x}{connmark}){configured}: {mark.Attachments} attachment(s), {Count(mark.Packets)} packets, {Count(mark.Bytes)} bytes");
            if (mark.Routing is not { } routing)
            {
                text.AppendLine("  routing: not managed by fwmark (no \"route\")");
                continue;
            }

            var device = routing.Device is null ? "" : $", device {routing.Device} {routing.DeviceUp switch { true => "up", false => "down", null => "missing" }}";
            text.AppendLine($"  routing: table {routing.Table}{device}");
            Family(text, "IPv4", routing.IPv4);
            Family(text, "IPv6", routing.IPv6);
            text.AppendLine(routing.Problems.Count == 0 ? "  fwmark reconcile would change nothing" : "  fwmark reconcile would repair:");
            foreach (var problem in routing.Problems)
            {
                text.AppendLine($"    {problem}");
            }
        }

        text.AppendLine();
        if (report.Attachments.Count == 0)
        {
            text.AppendLine("no attachments");
            return text.ToString();
        }

        var rows = new List<string[]> { new[] { "NETWORK", "POD", "CONTAINER", "IFNAME", "MARK", "KEY", "PACKETS", "BYTES", "STATE" } };
        foreach (var a in report.Attachments)
        {
            var pod = a.PodNamespace is null && a.PodName is null ? "-" : $"{a.PodNamespace ?? "?"}/{a.PodName ?? "?"}";
            var container = a.ContainerId is { } id ? (id.Length > 12 ? id[..12] : id) : a.Comment is { } c ? $"({c})" : "-";
            var first = true;
            foreach (var key in a.Keys)
            {
                // An interface key says which path's set it is in: the same name means a bridge port or a routed veth.
                var path = key.Keying switch
                {
                    MarkKeying.BridgePort => " (bridge port)",
                    MarkKeying.InputInterface => " (input interface)",
                    _ => "",
                };
                var where = path + (key.InKernel ? "" : " (not in kernel)");
                rows.Add(first
                    ? [a.Network ?? "-", pod, container, a.IfName ?? "-", a.MarkName ?? $"0x{a.Mark.Value:x}/0x{a.Mark.Mask:x}", key.Key + where, Count(key.Counter?.Packets, key.InKernel), Count(key.Counter?.Bytes, key.InKernel), JsonState(a.State)]
                    : ["", "", "", "", "", key.Key + where, Count(key.Counter?.Packets, key.InKernel), Count(key.Counter?.Bytes, key.InKernel), ""]);
                first = false;
            }
        }

        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }

        return text.ToString();
    }

    private static void Family(StringBuilder text, string name, FamilyRouting family)
    {
        var rule = family.Rule ? "rule yes" : "rule MISSING";
        var way = family.DefaultRoute ? "default route yes" : family.Wanted ? "default route MISSING" : "no default route (none configured)";
        var kill = family.KillSwitch ? "kill switch yes" : "kill switch MISSING";
        text.AppendLine($"  {name}: {rule}, {way}, {kill}");
        foreach (var route in family.Routes)
        {
            text.AppendLine($"    {route}");
        }
    }

    private static string JsonState(AttachmentState state) => StatusJson.StateName(state);

    private static string Count(ulong? value, bool applies = true) =>
        !applies ? "-" : value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "n/a";
}
