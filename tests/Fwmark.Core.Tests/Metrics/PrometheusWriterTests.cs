using Fwmark.Core.Metrics;

namespace Fwmark.Core.Tests.Metrics;

/// <summary>The exposition format's escaping and layout, and the agent's histogram as it is written.</summary>
public class PrometheusWriterTests
{
    [Fact]
    public void Label_values_escape_backslash_quote_and_newline_and_help_escapes_backslash_and_newline()
    {
        var text = new PrometheusWriter()
            .Family("m_total", "counter", "a \\ help\nline with \"quotes\"")
            .Sample("m_total", 3, ("network", "a\"b\\c\nd"))
            .ToString();

        Assert.Equal("# HELP m_total a \\\\ help\\nline with \"quotes\"\n# TYPE m_total counter\nm_total{network=\"a\\\"b\\\\c\\nd\"} 3\n", text);
    }

    [Fact]
    public void A_family_can_be_declared_once()
    {
        var writer = new PrometheusWriter().Family("m", "gauge", "x");

        Assert.Throws<InvalidOperationException>(() => writer.Family("m", "gauge", "x"));
    }

    [Fact]
    public void Reaction_times_fill_cumulative_buckets_per_kind_and_every_kind_is_exported_from_the_start()
    {
        var metrics = new AgentMetrics(DateTimeOffset.FromUnixTimeSeconds(1000));
        metrics.Repaired("routing", 2, TimeSpan.FromMilliseconds(3));
        metrics.Repaired("routing", 1, TimeSpan.FromMilliseconds(30));
        metrics.Repaired("table", 1, null);
        var writer = new PrometheusWriter();

        metrics.Write(writer);

        var lines = writer.ToString().Split('\n');
        Assert.Contains("fwmark_agent_repairs_total{kind=\"routing\"} 3", lines);
        Assert.Contains("fwmark_agent_repairs_total{kind=\"table\"} 1", lines);
        Assert.Contains("fwmark_agent_repairs_total{kind=\"table_restore\"} 0", lines);
        Assert.Contains("fwmark_agent_repair_reaction_seconds_bucket{kind=\"routing\",le=\"0.0025\"} 0", lines);
        Assert.Contains("fwmark_agent_repair_reaction_seconds_bucket{kind=\"routing\",le=\"0.005\"} 1", lines);
        Assert.Contains("fwmark_agent_repair_reaction_seconds_bucket{kind=\"routing\",le=\"0.05\"} 2", lines);
        Assert.Contains("fwmark_agent_repair_reaction_seconds_bucket{kind=\"routing\",le=\"+Inf\"} 2", lines);
        Assert.Contains("fwmark_agent_repair_reaction_seconds_count{kind=\"routing\"} 2", lines);
        Assert.Contains("fwmark_agent_repair_reaction_seconds_count{kind=\"table\"} 0", lines);
        Assert.Contains("fwmark_agent_start_time_seconds 1000", lines);
    }
}
