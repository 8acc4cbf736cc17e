namespace Fwmark.Linux.Locking;

/// <summary>
/// Makes sure a directory fwmark keeps node state in (its lock, its records) exists, and when it
/// cannot, says in one sentence which path is wrong and what to do about it. Without this the
/// runtime saw .NET's bare text (or, in a build with UseSystemResourceKeys, a resource key such as
/// IO_FileExists_Name).
/// </summary>
internal static class StateDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <exception cref="StateDirectoryException">The directory is missing and cannot be made.</exception>
    public static void Ensure(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("fwmark keeps its state in Linux directories");
        }

        if (Directory.Exists(directory))
        {
            return;
        }

        // The first ancestor that is not a directory is the one to name.
        for (var path = directory; !string.IsNullOrEmpty(path); path = Path.GetDirectoryName(path))
        {
            if (File.Exists(path))
            {
                throw new StateDirectoryException(directory,
                    $"{path} is a file, not a directory; move it away so fwmark can create the directory {directory}");
            }

            if (Directory.Exists(path))
            {
                break;
            }
        }

        try
        {
            Directory.CreateDirectory(directory, OwnerOnly);
        }
        catch (UnauthorizedAccessException)
        {
            throw new StateDirectoryException(directory,
                $"permission denied creating {directory}; run fwmark as root (the container runtime does) or create the directory with write access for it");
        }
        catch (IOException e)
        {
            throw new StateDirectoryException(directory,
                $"cannot create {directory} ({Plain(e)}); make its parent writable (not a read-only or full file system) or create the directory");
        }
    }

    /// <summary>.NET's text when it is a sentence; a resource key (UseSystemResourceKeys) is replaced by a generic phrase.</summary>
    internal static string Plain(Exception e) =>
        e.Message.Contains(' ', StringComparison.Ordinal) && !e.Message.Contains('_', StringComparison.Ordinal)
            ? e.Message.TrimEnd('.')
            : "the file system refused it";
}

/// <summary>A state directory (lock, records) that cannot be used; the message names the path and the fix.</summary>
internal sealed class StateDirectoryException(string directory, string message) : IOException($"failed to use fwmark's state directory {directory}: {message}")
{
    public string Directory { get; } = directory;
}
