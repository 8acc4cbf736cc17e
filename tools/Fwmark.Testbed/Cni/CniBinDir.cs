namespace Fwmark.Testbed.Cni;

/// <summary>A per-run CNI bin dir: the system's reference plugins plus a private copy of the plugin under test.</summary>
public static class CniBinDir
{
    /// <summary>Where Debian's containernetworking-plugins puts bridge, host-local, loopback, portmap ...</summary>
    public const string SystemPlugins = "/usr/lib/cni";

    private static readonly string[] Required = ["bridge", "host-local", "loopback"];

    /// <summary>
    /// Creates WORKDIR/bin with links to the system plugins and a copy of <paramref name="fwmarkBinary"/> named
    /// "fwmark". A copy, not a link: a concurrent rebuild must not swap the binary under a running test.
    /// </summary>
    public static string Create(NodeTestbed bed, string fwmarkBinary)
    {
        foreach (var plugin in Required)
        {
            if (!File.Exists(Path.Combine(SystemPlugins, plugin)))
            {
                throw new TestbedException($"failed to find CNI plugin {plugin} in {SystemPlugins}: install containernetworking-plugins");
            }
        }

        var dir = Path.Combine(bed.WorkDir, "bin");
        Directory.CreateDirectory(dir);
        foreach (var plugin in Directory.GetFiles(SystemPlugins))
        {
            File.CreateSymbolicLink(Path.Combine(dir, Path.GetFileName(plugin)), plugin);
        }

        var target = Path.Combine(dir, "fwmark");
        File.Copy(FwmarkBinary.Check(fwmarkBinary), target);
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return dir;
    }
}
