namespace Fwmark.Testbed.Cni;

/// <summary>The published plugin under test; its path comes from FWMARK_BIN (there is no silent default).</summary>
public static class FwmarkBinary
{
    public const string EnvironmentVariable = "FWMARK_BIN";

    /// <summary>The path in FWMARK_BIN, checked to be an executable file; throws with what to do otherwise.</summary>
    public static string FromEnvironment() => Check(Environment.GetEnvironmentVariable(EnvironmentVariable));

    public static string Check(string? path)
    {
        const string hint = "publish the plugin (dotnet publish src/Fwmark -c Release --artifacts-path DIR) "
            + "and set FWMARK_BIN to the absolute path DIR/publish/Fwmark/release_linux-x64/fwmark";
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new TestbedException($"failed to find the fwmark binary: {EnvironmentVariable} is not set; {hint}");
        }

        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new TestbedException($"failed to find the fwmark binary {full}: no such file ({EnvironmentVariable}); {hint}");
        }

        if ((File.GetUnixFileMode(full) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
        {
            throw new TestbedException($"failed to use the fwmark binary {full}: not executable ({EnvironmentVariable})");
        }

        return full;
    }
}
