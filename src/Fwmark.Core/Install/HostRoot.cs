namespace Fwmark.Core.Install;

/// <summary>
/// Maps host paths (always written as on the node: <c>/etc/cni/net.d</c>) to where they are seen from here:
/// under <c>--root</c>, which is <c>/host</c> in a container with the host mounted and a temp dir in tests.
/// Every file the installer touches goes through <see cref="Resolve"/>, so nothing escapes the root.
/// </summary>
public sealed class HostRoot
{
    public HostRoot(string path)
    {
        Path = global::System.IO.Path.GetFullPath(string.IsNullOrEmpty(path) ? "/" : path);
    }

    public string Path { get; }

    public static HostRoot Host { get; } = new("/");

    /// <summary>The local path of <paramref name="hostPath"/> (absolute, as on the host).</summary>
    public string Resolve(string hostPath)
    {
        if (!hostPath.StartsWith('/'))
        {
            throw new InstallException($"failed to resolve host path {hostPath}: not absolute");
        }

        return Path == "/" ? hostPath : global::System.IO.Path.Join(Path, hostPath);
    }

    public bool FileExists(string hostPath) => File.Exists(Resolve(hostPath));

    public bool DirectoryExists(string hostPath) => Directory.Exists(Resolve(hostPath));

    /// <summary>The file's bytes, or null when it does not exist.</summary>
    public byte[]? ReadBytes(string hostPath)
    {
        var local = Resolve(hostPath);
        return File.Exists(local) ? File.ReadAllBytes(local) : null;
    }

    public string? ReadText(string hostPath) => ReadBytes(hostPath) is { } bytes ? global::System.Text.Encoding.UTF8.GetString(bytes) : null;
}
