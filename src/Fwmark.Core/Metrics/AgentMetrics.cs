namespace Fwmark.Core.Metrics;

/// <summary>
/// The agent's own numbers, updated by its repair loop and read by /metrics: repairs by kind with their reaction
/// time, errors by operation, the last full check. Thread-safe (one lock: updates are rare, a few per fault).
/// </summary>
public sealed class AgentMetrics(DateTimeOffset started)
{
    /// <summary>Reaction-time buckets in seconds: the agent reacts in milliseconds; 5 s is its longest retry backoff.</summary>
    public static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly object _gate = new();
    private readonly SortedDictionary<string, ulong> _repairs = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, Histogram> _reactions = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, ulong> _errors = new(StringComparer.Ordinal);
    private DateTimeOffset? _lastFullCheck;

    public DateTimeOffset Started { get; } = started;

    /// <summary>
    /// <paramref name="count"/> repairs of <paramref name="kind"/> made by one action; <paramref name="reaction"/>: from the
    /// first notification of the fault to the end of the repair (null when the backstop found it: the fault's moment is unknown).
    /// </summary>
    public void Repaired(string kind, int count, TimeSpan? reaction)
    {
        lock (_gate)
        {
            _repairs[kind] = _repairs.GetValueOrDefault(kind) + (ulong)count;
            if (reaction is { } r)
            {
                (_reactions.TryGetValue(kind, out var h) ? h : _reactions[kind] = new Histogram()).Observe(r.TotalSeconds);
            }
        }
    }

    public void Failed(string operation)
    {
        lock (_gate)
        {
            _errors[operation] = _errors.GetValueOrDefault(operation) + 1;
        }
    }

    public void FullCheckDone(DateTimeOffset at)
    {
        lock (_gate)
        {
            _lastFullCheck = at;
        }
    }

    public void Write(PrometheusWriter writer)
    {
        lock (_gate)
        {
            writer.Family("fwmark_agent_up", "gauge", "1 while the agent serves these metrics.").Sample("fwmark_agent_up", 1);
            writer.Family("fwmark_agent_start_time_seconds", "gauge", "When the agent started (Unix time).")
                .Sample("fwmark_agent_start_time_seconds", Started.ToUnixTimeMilliseconds() / 1000.0);
            writer.Family("fwmark_agent_last_full_check_timestamp_seconds", "gauge", "When the agent last finished its full table and routing check (Unix time; 0 before the first).")
                .Sample("fwmark_agent_last_full_check_timestamp_seconds", _lastFullCheck is { } at ? at.ToUnixTimeMilliseconds() / 1000.0 : 0);
            writer.Family("fwmark_agent_repairs_total", "counter", "Repairs the agent made, by kind: table_restore (the plugin's table re-created after a deletion), table (structure or elements put back), routing (rules and routes re-ensured), foreign_route (a foreign default route deleted from a mark's table).");
            foreach (var kind in Kinds)
            {
                writer.Sample("fwmark_agent_repairs_total", _repairs.GetValueOrDefault(kind), ("kind", kind));
            }

            writer.Family("fwmark_agent_repair_reaction_seconds", "histogram", "From the first notification of a fault to the end of its repair, by kind (faults the backstop found are not observed).");
            foreach (var kind in Kinds)
            {
                (_reactions.TryGetValue(kind, out var h) ? h : new Histogram()).Write(writer, "fwmark_agent_repair_reaction_seconds", ("kind", kind));
            }

            writer.Family("fwmark_agent_errors_total", "counter", "Repairs that failed (to be retried), by operation.");
            foreach (var (operation, count) in _errors)
            {
                writer.Sample("fwmark_agent_errors_total", count, ("operation", operation));
            }
        }
    }

    /// <summary>Every kind is always exported (0 until the first), so a rate over it exists from the start.</summary>
    private static readonly string[] Kinds = ["foreign_route", "routing", "table", "table_restore"];

    private sealed class Histogram
    {
        private readonly ulong[] _counts = new ulong[Buckets.Length];
        private ulong _count;
        private double _sum;

        public void Observe(double seconds)
        {
            _count++;
            _sum += seconds;
            for (var i = 0; i < Buckets.Length; i++)
            {
                if (seconds <= Buckets[i])
                {
                    _counts[i]++;
                }
            }
        }

        public void Write(PrometheusWriter writer, string name, (string, string) label)
        {
            for (var i = 0; i < Buckets.Length; i++)
            {
                writer.Sample(name + "_bucket", _counts[i], label, ("le", PrometheusWriter.Format(Buckets[i])));
            }

            writer.Sample(name + "_bucket", _count, label, ("le", "+Inf"));
            writer.Sample(name + "_sum", _sum, label);
            writer.Sample(name + "_count", _count, label);
        }
    }
}
