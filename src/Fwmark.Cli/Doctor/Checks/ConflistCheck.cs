using System.Runtime.CompilerServices;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>Every conf file can be read and parsed, and every fwmark object in it is a valid config.</summary>
internal sealed class ConflistCheck : IDoctorCheck
{
    public string Id => "conflist-invalid";

    public int Order => 20;

    public string Title => "every conflist can be read and its fwmark config is valid";

    public string Meaning => "A runtime cannot load a network whose file is unreadable or not JSON, and the plugin refuses ADD (code 7) for an invalid fwmark object: pods of that network do not start.";

    public string Fix => "Correct the file named in the finding (the message names the key and the value), or remove it.";

    public CheckResult Run(DoctorContext context)
    {
        var findings = new List<DoctorFinding>();
        if (context.DirError is { } dirError)
        {
            findings.Add(new DoctorFinding(dirError, $"create {context.ConfDir} or pass --conf-dir"));
        }

        findings.AddRange(context.ParseErrors.Select(e => new DoctorFinding(e, "fix or remove the file")));
        findings.AddRange(context.Fwmarks.Where(f => f.Error is not null).Select(f =>
            new DoctorFinding($"{f.Network.Path}: plugin #{f.Index} (fwmark): {f.Error}", $"edit {f.Network.Path}")));
        return CheckResult.Of(findings);
    }

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new ConflistCheck());
#pragma warning restore CA2255
}
