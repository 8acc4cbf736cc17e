namespace Fwmark.Cli.Doctor;

public enum CheckStatus
{
    /// <summary>Checked and fine.</summary>
    Ok,

    /// <summary>Does not apply to this node (no Cilium, no routed mark...); the note says why.</summary>
    Skipped,

    /// <summary>At least one finding.</summary>
    Problem,

    /// <summary>The check itself failed (could not read the kernel state it needs); counts as unhealthy.</summary>
    Error,
}

/// <summary>One problem: the sentence that names it, and the command (or edit) that fixes this instance.</summary>
public sealed record DoctorFinding(string Problem, string Fix);

public sealed record CheckResult(CheckStatus Status, IReadOnlyList<DoctorFinding> Findings, string? Note)
{
    public static CheckResult Ok(string? note = null) => new(CheckStatus.Ok, [], note);

    public static CheckResult Skip(string reason) => new(CheckStatus.Skipped, [], reason);

    public static CheckResult Error(string message) => new(CheckStatus.Error, [], message);

    /// <summary>Problem when there are findings, Ok otherwise.</summary>
    public static CheckResult Of(IReadOnlyList<DoctorFinding> findings, string? okNote = null) =>
        findings.Count > 0 ? new(CheckStatus.Problem, findings, null) : Ok(okNote);

    public bool Healthy => Status is CheckStatus.Ok or CheckStatus.Skipped;
}
