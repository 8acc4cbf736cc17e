using System.Runtime.CompilerServices;

namespace Fwmark.Cli.Doctor.Checks;

/// <summary>The runtime execs BIN_DIR/fwmark (the conflist's "type"): it must be there and executable.</summary>
internal sealed class PluginBinaryCheck : IDoctorCheck
{
    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public string Id => "plugin-binary-missing";

    public int Order => 40;

    public string Title => "the fwmark binary is in the CNI bin dir";

    public string Meaning => "The runtime looks for an executable named after the plugin's type in its bin dir. Without it every ADD of the network fails with \"failed to find plugin fwmark\" and no pod of that network starts.";

    public string Fix => "Install the binary atomically: install -m 0755 fwmark BIN_DIR/fwmark.new && mv BIN_DIR/fwmark.new BIN_DIR/fwmark (see the README).";

    public CheckResult Run(DoctorContext context)
    {
        var path = Path.Combine(context.BinDir, "fwmark");
        var fix = $"install -m 0755 fwmark {path}.new && mv {path}.new {path}";
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return CheckResult.Of([new DoctorFinding($"{path} does not exist", fix)]);
            }

            return (info.UnixFileMode & AnyExecute) == 0
                ? CheckResult.Of([new DoctorFinding($"{path} is not executable (mode {Convert.ToString((int)info.UnixFileMode, 8)})", $"chmod 0755 {path}")])
                : CheckResult.Ok(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CheckResult.Of([new DoctorFinding($"failed to read {path}: {e.Message}", fix)]);
        }
    }

#pragma warning disable CA2255 // Checks register themselves: one file per check (docs/cli.md).
    [ModuleInitializer]
    internal static void Register() => DoctorChecks.Register(new PluginBinaryCheck());
#pragma warning restore CA2255
}
