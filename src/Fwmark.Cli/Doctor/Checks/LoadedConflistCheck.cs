using System.Runtime.CompilerServices;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>
/// CRI runtimes (containerd, CRI-O, k3s) load only the lexically first file of the conf dir: fwmark must be in
/// that one. A conflist listed later is ignored by them, however correct.
/// </summary>
internal sealed class LoadedConflistCheck : IDoctorCheck
{
    public string Id => "loaded-conflist-lacks-fwmark";

    public int Order => 30;

    public string Title => "the conflist the runtime loads (the lexically first) has fwmark";

    public string Meaning => "containerd, CRI-O and k3s load only the first file of the conf dir in lexical order. Without fwmark in it no pod is ever marked, whatever the other files say: marked pods leave through the main path.";

    public string Fix => "Add the fwmark plugin object to the plugins list of that file, after the main plugin (or rename files so the one with fwmark sorts first).";

    public CheckResult Run(DoctorContext context)
    {
        if (context.DirError is not null)
        {
            return CheckResult.Skip("the conf dir cannot be read (see conflist-invalid)");
        }

        if (context.Files.Count == 0)
        {
            return CheckResult.Of([new DoctorFinding($"{context.ConfDir} holds no .conf, .conflist or .json file", $"write the network's conflist with fwmark into {context.ConfDir}")]);
        }

        var first = context.Files[0];
        var network = context.Networks.FirstOrDefault(n => n.Path == first.Path);
        if (network is null)
        {
            return CheckResult.Of([new DoctorFinding($"the first file, {first.Path}, cannot be used (see conflist-invalid), so the runtime loads nothing usable", $"fix {first.Path}")]);
        }

        if (network.Types.Contains("fwmark"))
        {
            return CheckResult.Ok($"{first.Path} has fwmark");
        }

        var elsewhere = context.Fwmarks.Select(f => f.Network.Path).Distinct().ToList();
        var where = elsewhere.Count > 0 ? $" (fwmark is only in {string.Join(", ", elsewhere)}, which the runtime does not load)" : "";
        return CheckResult.Of([new DoctorFinding($"{first.Path} (network {network.Name ?? "?"}), the file the runtime loads, has no fwmark plugin{where}",
            $"append {{\"type\": \"fwmark\", ...}} to the plugins of {first.Path}")]);
    }

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new LoadedConflistCheck());
#pragma warning restore CA2255
}
