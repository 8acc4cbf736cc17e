namespace Fwmark.Bench;

/// <summary>One performance goal from the issue, evaluated as a ratio of two p50s.</summary>
internal sealed record TargetResult(string Name, double Numerator, double Denominator, double Limit)
{
    public double Ratio => Numerator / Denominator;

    public bool Pass => Ratio <= Limit;
}

/// <summary>
/// The goals: ADD and CHECK p50 at the largest N within 2× the hello floor measured at that N, and ADD,
/// CHECK and DEL(prevResult) p50 at the largest N within 1.3× of the smallest N (flat scaling). They are
/// reported, never enforced: timing on a shared 2-core VM is too noisy to fail a build on.
/// </summary>
internal static class Targets
{
    public const double FloorLimit = 2.0;
    public const double FlatLimit = 1.3;

    public static IReadOnlyList<TargetResult> Evaluate(IReadOnlyList<Summary> summaries)
    {
        var counts = summaries.Select(s => s.N).Distinct().Order().ToArray();
        int low = counts[0], high = counts[^1];
        double P50(string op, int n) => summaries.Single(s => s.Op == op && s.N == n).P50;

        var results = new List<TargetResult>();
        foreach (var op in new[] { BenchRunner.AddOp, BenchRunner.CheckOp })
            results.Add(new($"{op} p50 @N={high} / hello p50 @N={high}", P50(op, high), P50(BenchRunner.HelloOp, high), FloorLimit));
        if (high != low)
        {
            foreach (var op in new[] { BenchRunner.AddOp, BenchRunner.CheckOp, BenchRunner.DelOp })
                results.Add(new($"{op} p50 @N={high} / @N={low}", P50(op, high), P50(op, low), FlatLimit));
        }

        return results;
    }
}
