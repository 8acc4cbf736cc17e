using System.Text;

namespace Fwmark.Core.Install;

/// <summary>One file install or uninstall changes: <see cref="After"/> null = remove it.</summary>
public sealed record FileChange(string HostPath, byte[]? Before, byte[]? After, UnixFileMode Mode, bool IsBinary, string Why);

/// <summary>
/// What an install or uninstall would do, computed before anything is written: printed as a diff by --dry-run,
/// applied by <see cref="Installer.Apply"/>. <see cref="Record"/> is the record to write (null with
/// <see cref="RemoveRecord"/> = delete it).
/// </summary>
public sealed record InstallPlan(IReadOnlyList<FileChange> Changes, InstallRecord? Record, bool RemoveRecord, IReadOnlyList<string> Notes)
{
    public bool IsEmpty => Changes.Count == 0;

    public string Diff()
    {
        var output = new StringBuilder();
        foreach (var change in Changes)
        {
            if (change.IsBinary)
            {
                output.Append(change.After is null
                    ? $"binary {change.HostPath}: would be removed\n"
                    : $"binary {change.HostPath}: would be {(change.Before is null ? "installed" : "replaced")} ({change.After.Length} bytes, mode 0755)\n");
                continue;
            }

            output.Append($"# {change.Why}\n");
            output.Append(TextDiff.Unified(change.HostPath, Text(change.Before), Text(change.After)));
        }

        return output.ToString();
    }

    private static string? Text(byte[]? bytes) => bytes is null ? null : Encoding.UTF8.GetString(bytes);
}
