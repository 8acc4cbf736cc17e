namespace Fwmark.Bench;

/// <summary>Percentiles of one operation's timings, in milliseconds.</summary>
internal sealed record Summary(string Op, int N, int Count, double P50, double P90, double P99, double Min, double Max);

/// <summary>Collects kept timings of one operation at one attachment count.</summary>
internal sealed class Samples(string op, int n)
{
    private readonly List<double> _ms = [];

    public string Op { get; } = op;

    public int N { get; } = n;

    public void Add(TimeSpan elapsed) => _ms.Add(elapsed.TotalMilliseconds);

    public Summary Summarize()
    {
        if (_ms.Count == 0)
            throw new InvalidOperationException($"failed to summarize samples {Op}@{N}: none were kept");
        var sorted = _ms.Order().ToArray();
        return new Summary(Op, N, sorted.Length, Rank(sorted, 50), Rank(sorted, 90), Rank(sorted, 99), sorted[0], sorted[^1]);
    }

    // Nearest-rank percentile: a value that was actually observed, no interpolation.
    private static double Rank(double[] sorted, int percent)
    {
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }
}
