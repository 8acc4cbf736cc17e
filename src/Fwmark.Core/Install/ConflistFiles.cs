namespace Fwmark.Core.Install;

/// <summary>
/// Which files of a CNI conf dir a runtime considers, in its order: libcni's <c>ConfFiles</c> takes the
/// extensions .conf, .conflist and .json and sorts the names; containerd's CRI (max_conf_num 1) and k3s load the
/// first. Temp files of <see cref="AtomicFile"/> have none of those extensions.
/// </summary>
public static class ConflistFiles
{
    public static bool IsConfig(string name) => Path.GetExtension(name) is ".conf" or ".conflist" or ".json";

    /// <summary>Host paths of the config files of <paramref name="confDir"/>, lexically ordered.</summary>
    public static List<string> List(HostRoot root, string confDir)
    {
        var local = root.Resolve(confDir);
        if (!Directory.Exists(local))
        {
            return [];
        }

        return Directory.EnumerateFiles(local)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(IsConfig)
            .Order(StringComparer.Ordinal)
            .Select(name => $"{confDir.TrimEnd('/')}/{name}")
            .ToList();
    }

    /// <summary>The file the runtime loads (the first), or null in an empty dir.</summary>
    public static string? Effective(HostRoot root, string confDir) => List(root, confDir).FirstOrDefault();
}
