using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Fwmark.Bench;

/// <summary>Renders results as a markdown table (for people and docs) and as JSON (for tools).</summary>
internal static class Report
{
    public static string Markdown(BenchOptions options, BenchResults results, IReadOnlyList<TargetResult> targets)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"machine: {Environment.ProcessorCount} cores, kernel {Kernel()}; {options.Iterations} kept samples per row, {options.Warmup} warm-up iterations dropped per N");
        text.AppendLine(options.RouteDevice is { } device
            ? $"config: mark vpn 0x10/0x10 with route (table 2184 via 192.0.2.1 dev {device}): every ADD also ensures the policy routing"
            : "config: mark vpn 0x10/0x10, no route");
        if (options.LogFile is { } log)
            text.AppendLine($"logFile: {log} (one JSON line appended per invocation)");
        text.AppendLine();
        text.AppendLine("| op | N | samples | p50 ms | p90 ms | p99 ms | max ms |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var s in results.Summaries)
            text.AppendLine(CultureInfo.InvariantCulture, $"| {s.Op} | {s.N} | {s.Count} | {s.P50:F2} | {s.P90:F2} | {s.P99:F2} | {s.Max:F2} |");
        text.AppendLine();
        text.AppendLine("| populate to N | plugin ADDs | seconds | ms per ADD | nft objects |");
        text.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var p in results.Populate)
        {
            var perCall = p.Calls == 0 ? "-" : (p.Elapsed.TotalMilliseconds / p.Calls).ToString("F2", CultureInfo.InvariantCulture);
            text.AppendLine(CultureInfo.InvariantCulture, $"| {p.N} | {p.Calls} | {p.Elapsed.TotalSeconds:F1} | {perCall} | {p.NftObjects?.ToString(CultureInfo.InvariantCulture) ?? "no table"} |");
        }

        text.AppendLine();
        text.AppendLine("| target | ratio | limit | result |");
        text.AppendLine("|---|---:|---:|---|");
        foreach (var t in targets)
            text.AppendLine(CultureInfo.InvariantCulture, $"| {t.Name} ({t.Numerator:F2} / {t.Denominator:F2} ms) | {t.Ratio:F2} | {t.Limit:F1} | {(t.Pass ? "PASS" : "MISS")} |");
        return text.ToString();
    }

    public static void WriteJson(Stream stream, BenchOptions options, BenchResults results, IReadOnlyList<TargetResult> targets)
    {
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteStartObject("machine");
        json.WriteNumber("processors", Environment.ProcessorCount);
        json.WriteString("kernel", Kernel());
        json.WriteEndObject();
        json.WriteString("plugin", options.Plugin);
        json.WriteString("hello", options.Hello);
        json.WriteNumber("iterations", options.Iterations);
        json.WriteNumber("warmup", options.Warmup);
        json.WriteString("routeDevice", options.RouteDevice);
        json.WriteString("logFile", options.LogFile);

        json.WriteStartArray("results");
        foreach (var s in results.Summaries)
        {
            json.WriteStartObject();
            json.WriteString("op", s.Op);
            json.WriteNumber("n", s.N);
            json.WriteNumber("samples", s.Count);
            json.WriteNumber("p50Ms", Math.Round(s.P50, 3));
            json.WriteNumber("p90Ms", Math.Round(s.P90, 3));
            json.WriteNumber("p99Ms", Math.Round(s.P99, 3));
            json.WriteNumber("minMs", Math.Round(s.Min, 3));
            json.WriteNumber("maxMs", Math.Round(s.Max, 3));
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("populate");
        foreach (var p in results.Populate)
        {
            json.WriteStartObject();
            json.WriteNumber("n", p.N);
            json.WriteNumber("calls", p.Calls);
            json.WriteNumber("seconds", Math.Round(p.Elapsed.TotalSeconds, 3));
            if (p.NftObjects is int objects)
                json.WriteNumber("nftObjects", objects);
            else
                json.WriteNull("nftObjects");
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("targets");
        foreach (var t in targets)
        {
            json.WriteStartObject();
            json.WriteString("name", t.Name);
            json.WriteNumber("ratio", Math.Round(t.Ratio, 3));
            json.WriteNumber("limit", t.Limit);
            json.WriteBoolean("pass", t.Pass);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Kernel()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
