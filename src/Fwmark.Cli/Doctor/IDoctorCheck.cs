namespace Fwmark.Cli.Doctor;

/// <summary>
/// One thing <c>fwmark doctor</c> checks. A check is one file under Checks/: this interface plus its
/// <see cref="DoctorChecks.Register"/> line; docs/troubleshooting.md has one section per <see cref="Id"/>
/// (a test enforces it).
/// </summary>
public interface IDoctorCheck
{
    /// <summary>Stable, kebab-case; the JSON key tools match on and the anchor in docs/troubleshooting.md.</summary>
    string Id { get; }

    /// <summary>Position in the report: node basics first, then config, routing, neighbours, the agent.</summary>
    int Order { get; }

    /// <summary>What is checked, as a short phrase.</summary>
    string Title { get; }

    /// <summary>What a problem found by this check means for the pods' traffic.</summary>
    string Meaning { get; }

    /// <summary>The general fix; each finding may name the exact command.</summary>
    string Fix { get; }

    CheckResult Run(DoctorContext context);
}
