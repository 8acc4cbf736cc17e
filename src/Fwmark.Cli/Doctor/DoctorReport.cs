using System.Text;
using System.Text.Json.Nodes;

namespace Fwmark.Cli.Doctor;

/// <summary>The outcome of every check, and its two renderings: a readable report and the documented JSON.</summary>
public sealed record DoctorReport(string ConfDir, IReadOnlyList<(IDoctorCheck Check, CheckResult Result)> Results)
{
    public bool Healthy => Results.All(r => r.Result.Healthy);

    public int ProblemCount => Results.Sum(r => r.Result.Status == CheckStatus.Error ? 1 : r.Result.Findings.Count);

    public static string StatusWord(CheckStatus status) => status switch
    {
        CheckStatus.Ok => "ok",
        CheckStatus.Skipped => "skipped",
        CheckStatus.Problem => "problem",
        _ => "error",
    };

    /// <summary>Runs every registered check; a check that throws is reported as an error, never crashes doctor.</summary>
    public static DoctorReport Run(DoctorContext context) => new(context.ConfDir, [.. DoctorChecks.All.Select(check =>
    {
        try
        {
            return (check, check.Run(context));
        }
        catch (Exception e)
        {
            return (check, CheckResult.Error($"failed to run the check: {e.Message}"));
        }
    })]);

    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine($"fwmark doctor (conf dir {ConfDir})");
        var width = Results.Max(r => r.Check.Id.Length);
        foreach (var (check, result) in Results)
        {
            var word = result.Status is CheckStatus.Problem or CheckStatus.Error ? StatusWord(result.Status).ToUpperInvariant() : StatusWord(result.Status);
            var note = result.Note is { } n ? $" ({n})" : "";
            text.AppendLine($"{word,-8} {check.Id.PadRight(width)}  {check.Title}{(result.Status == CheckStatus.Error ? "" : note)}");
            if (result.Status == CheckStatus.Error)
            {
                text.AppendLine($"         - {result.Note}");
            }

            foreach (var finding in result.Findings)
            {
                text.AppendLine($"         - {finding.Problem}");
                text.AppendLine($"           fix: {finding.Fix}");
            }

            if (!result.Healthy)
            {
                text.AppendLine($"           means: {check.Meaning}");
            }
        }

        text.Append(Healthy
            ? "healthy: no problem found"
            : $"{ProblemCount} problem(s) found; each check id is explained in docs/troubleshooting.md");
        return text.ToString();
    }

    public JsonObject ToJson() => new()
    {
        ["healthy"] = Healthy,
        ["confDir"] = ConfDir,
        ["problems"] = ProblemCount,
        ["checks"] = new JsonArray([.. Results.Select(r => (JsonNode)new JsonObject
        {
            ["id"] = r.Check.Id,
            ["title"] = r.Check.Title,
            ["status"] = StatusWord(r.Result.Status),
            ["note"] = r.Result.Note,
            ["meaning"] = r.Check.Meaning,
            ["fix"] = r.Check.Fix,
            ["findings"] = new JsonArray([.. r.Result.Findings.Select(f => (JsonNode)new JsonObject { ["problem"] = f.Problem, ["fix"] = f.Fix })]),
        })]),
    };
}
