using System.Globalization;
using System.Text;

namespace Fwmark.E2E.Tests.Status;

/// <summary>One sample of a Prometheus text exposition: metric name, labels (unescaped), value.</summary>
internal sealed record PromSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.TryGetValue(name, out var value) ? value : "";
}

/// <summary>
/// A strict reader of the Prometheus text format 0.0.4, written for the tests (no client library): every sample
/// belongs to a family declared by one # HELP and one # TYPE before it; a family's samples are contiguous; names and
/// label names match the format's grammar; label values use only the three escapes; no series appears twice;
/// counters are never negative; histograms have _bucket (with le, cumulative, ending at +Inf), _sum and _count.
/// Any violation throws with the line.
/// </summary>
internal sealed class PrometheusText
{
    private PrometheusText(Dictionary<string, (string Type, string Help)> families, List<PromSample> samples)
    {
        Families = families;
        Samples = samples;
    }

    public IReadOnlyDictionary<string, (string Type, string Help)> Families { get; }

    public IReadOnlyList<PromSample> Samples { get; }

    public IEnumerable<PromSample> Of(string name) => Samples.Where(s => s.Name == name);

    public PromSample Single(string name, params (string Name, string Value)[] labels)
    {
        var found = Of(name).Where(s => labels.All(l => s.Label(l.Name) == l.Value)).ToList();
        return found.Count == 1 ? found[0] : throw new InvalidOperationException($"{found.Count} samples of {name} with {string.Join(",", labels)}");
    }

    public static PrometheusText Parse(string text)
    {
        var families = new Dictionary<string, (string Type, string Help)>(StringComparer.Ordinal);
        var helps = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<PromSample>();
        var series = new HashSet<string>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("the exposition does not end with a newline");
        }

        foreach (var line in text.Split('\n').SkipLast(1))
        {
            string Fail(string why) => throw new FormatException($"{why}: \"{line}\"");
            if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ', 2);
                var name = parts[0];
                if (!IsName(name) || parts.Length < 2)
                {
                    Fail("bad HELP/TYPE line");
                }

                if (current != name)
                {
                    if (current is not null)
                    {
                        closed.Add(current);
                    }

                    if (closed.Contains(name))
                    {
                        Fail($"family {name} declared again after other families");
                    }

                    current = name;
                }

                if (line[2] == 'H')
                {
                    if (!helps.TryAdd(name, Unescape(parts[1])))
                    {
                        Fail("second HELP");
                    }
                }
                else
                {
                    if (parts[1] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped") || families.ContainsKey(name))
                    {
                        Fail("bad or second TYPE");
                    }

                    families[name] = (parts[1], helps.GetValueOrDefault(name) ?? Fail("TYPE without HELP before it"));
                }

                continue;
            }

            if (line.StartsWith('#') || line.Length == 0)
            {
                continue;
            }

            var sample = ParseSample(line);
            var family = FamilyOf(sample.Name, families);
            if (family is null || family != current)
            {
                Fail($"sample outside its family's block (family {family ?? "undeclared"}, current {current})");
            }

            var key = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "}";
            if (!series.Add(key))
            {
                Fail("duplicate series");
            }

            if (families[family!].Type == "counter" && sample.Value < 0)
            {
                Fail("negative counter");
            }

            samples.Add(sample);
        }

        CheckHistograms(families, samples);
        return new PrometheusText(families, samples);
    }

    private static string? FamilyOf(string sample, Dictionary<string, (string Type, string Help)> families)
    {
        if (families.ContainsKey(sample))
        {
            return families[sample].Type == "histogram" ? null : sample;
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal) && families.TryGetValue(sample[..^suffix.Length], out var f) && f.Type is "histogram")
            {
                return sample[..^suffix.Length];
            }
        }

        return null;
    }

    private static void CheckHistograms(Dictionary<string, (string Type, string Help)> families, List<PromSample> samples)
    {
        foreach (var (name, _) in families.Where(f => f.Value.Type == "histogram"))
        {
            foreach (var group in samples.Where(s => s.Name.StartsWith(name + "_", StringComparison.Ordinal))
                .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"))))
            {
                var buckets = group.Where(s => s.Name == name + "_bucket").ToList();
                var count = group.Single(s => s.Name == name + "_count").Value;
                _ = group.Single(s => s.Name == name + "_sum");
                if (buckets.Count == 0 || buckets[^1].Label("le") != "+Inf" || buckets[^1].Value != count)
                {
                    throw new FormatException($"histogram {name}{{{group.Key}}}: the last bucket must be le=\"+Inf\" and equal _count");
                }

                for (var i = 1; i < buckets.Count; i++)
                {
                    if (buckets[i].Value < buckets[i - 1].Value || Bound(buckets[i]) <= Bound(buckets[i - 1]))
                    {
                        throw new FormatException($"histogram {name}{{{group.Key}}}: buckets are not cumulative in increasing le");
                    }
                }
            }
        }

        static double Bound(PromSample s) => s.Label("le") == "+Inf" ? double.PositiveInfinity : double.Parse(s.Label("le"), CultureInfo.InvariantCulture);
    }

    private static PromSample ParseSample(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] is not ('{' or ' '))
        {
            i++;
        }

        var name = line[..i];
        if (!IsName(name))
        {
            throw new FormatException($"bad metric name: \"{line}\"");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var label = line[i..eq];
                if (!IsName(label) || label.Contains(':', StringComparison.Ordinal) || line[eq + 1] != '"')
                {
                    throw new FormatException($"bad label: \"{line}\"");
                }

                var value = new StringBuilder();
                var j = eq + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] == '\\')
                    {
                        j++;
                        value.Append(line[j] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            _ => throw new FormatException($"bad escape \\{line[j]}: \"{line}\""),
                        });
                    }
                    else
                    {
                        value.Append(line[j]);
                    }
                }

                if (!labels.TryAdd(label, value.ToString()))
                {
                    throw new FormatException($"label {label} twice: \"{line}\"");
                }

                i = j + 1;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++;
        }

        if (i >= line.Length || line[i] != ' ')
        {
            throw new FormatException($"no value: \"{line}\"");
        }

        var rest = line[(i + 1)..].Split(' ');
        var number = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw new FormatException($"bad value: \"{line}\""),
        };
        return new PromSample(name, labels, number);
    }

    private static bool IsName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] is '_' or ':') && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');

    private static string Unescape(string text) =>
        text.Replace("\\n", "\n").Replace("\\\\", "\\");
}
