namespace Fwmark.Cli.Doctor;

/// <summary>The registry of doctor's checks, filled by each check's module initializer (like <see cref="CommandTable"/>).</summary>
public static class DoctorChecks
{
    private static readonly List<IDoctorCheck> Checks = [];

    public static IEnumerable<IDoctorCheck> All => Checks.OrderBy(c => c.Order).ThenBy(c => c.Id, StringComparer.Ordinal);

    public static void Register(IDoctorCheck check)
    {
        if (Checks.Any(c => c.Id == check.Id))
        {
            throw new InvalidOperationException($"failed to register doctor check {check.Id}: already registered");
        }

        Checks.Add(check);
    }
}
