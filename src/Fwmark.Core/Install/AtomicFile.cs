namespace Fwmark.Core.Install;

/// <summary>
/// Replaces a file in one step: the new bytes go to a temp file in the same directory, are flushed to
/// disk, get their mode, and are renamed over the target. A runtime that execs the plugin or reads a
/// conflist at the same moment sees the old file or the new one, never a half-written one (rename(2) is
/// atomic within a file system; the temp file must therefore be a sibling, not in /tmp).
/// </summary>
public static class AtomicFile
{
    /// <summary>Name prefix of the temp files; libcni ignores them (no .conf/.conflist/.json extension).</summary>
    public const string TempPrefix = ".fwmark-tmp-";

    public static void Write(string path, byte[] bytes, UnixFileMode mode)
    {
        var directory = Path.GetDirectoryName(path) ?? throw new InstallException($"failed to write {path}: no directory");
        Directory.CreateDirectory(directory);
        var temp = Path.Join(directory, $"{TempPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, mode);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new InstallException($"failed to write {path}: {e.Message}", e);
        }
    }

    public static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InstallException($"failed to remove {path}: {e.Message}", e);
        }
    }
}
