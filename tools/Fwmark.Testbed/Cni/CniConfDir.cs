namespace Fwmark.Testbed.Cni;

/// <summary>
/// A conflist directory of this run (what /etc/cni/net.d is on a node), for the operator CLI's --conf-dir.
/// Lives under the testbed's work dir, so it goes with the testbed.
/// </summary>
public sealed class CniConfDir
{
    private CniConfDir(string path) => Path = path;

    public string Path { get; }

    /// <summary>Creates WORKDIR/<paramref name="name"/> (empty).</summary>
    public static CniConfDir Create(NodeTestbed bed, string name = "net.d")
    {
        var path = System.IO.Path.Combine(bed.WorkDir, name);
        Directory.CreateDirectory(path);
        return new CniConfDir(path);
    }

    /// <summary>Writes the chain's conflist as NAME.conflist, the way an operator or installer would; returns the file.</summary>
    public string Add(CniChain chain) => Write($"{chain.NetworkName}.conflist", chain.Conflist.ToJsonString());

    /// <summary>Writes any text (e.g. a broken conflist) under <paramref name="fileName"/>; returns the file.</summary>
    public string Write(string fileName, string content)
    {
        var file = System.IO.Path.Combine(Path, fileName);
        File.WriteAllText(file, content);
        return file;
    }
}
