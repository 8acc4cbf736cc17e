namespace Fwmark.Cli;

/// <summary>One file of a CNI config dir: its text, or why it could not be read.</summary>
public sealed record ConfFile(string Path, string? Text, string? Error);

/// <summary>
/// Reads a CNI config dir the way libcni lists it: files ending in .conf, .conflist or .json, in
/// lexical order (the first one is the network a CRI runtime loads). A file that cannot be read (a
/// dangling symlink, no permission, an I/O error) is returned with a sentence instead of its text, so
/// every command reports it and goes on; only a dir that cannot be listed at all is an error.
/// </summary>
public static class ConfDir
{
    public static readonly string[] Extensions = [".conf", ".conflist", ".json"];

    /// <summary>The files, or a sentence saying why the dir itself cannot be listed.</summary>
    public static (IReadOnlyList<ConfFile> Files, string? Error) Read(string dir)
    {
        List<string> paths;
        try
        {
            if (!Directory.Exists(dir))
            {
                return ([], File.Exists(dir) ? $"failed to read conf dir {dir}: not a directory" : $"failed to read conf dir {dir}: no such directory");
            }

            paths = [.. Directory.EnumerateFiles(dir).Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.Ordinal)).Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ([], $"failed to read conf dir {dir}: {Describe(e)}");
        }

        return (paths.Select(ReadFile).ToList(), null);
    }

    private static ConfFile ReadFile(string path)
    {
        try
        {
            return new ConfFile(path, File.ReadAllText(path), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ConfFile(path, null, $"failed to read {path}: {Describe(e)}");
        }
    }

    private static string Describe(Exception e) => e switch
    {
        FileNotFoundException => "no such file (a dangling symlink?)",
        UnauthorizedAccessException => "permission denied",
        _ => e.Message,
    };
}
