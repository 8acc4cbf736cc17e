using System.Runtime.InteropServices;
using System.Text;

namespace Fwmark.Bench;

/// <summary>
/// The plugin rewrites nftables in whatever netns it runs in, and it inherits ours. Running in the host's
/// netns would program the machine's real firewall, so the bench refuses unless it was moved elsewhere.
/// </summary>
internal static partial class NetnsGuard
{
    private const string Own = "/proc/self/ns/net";

    // PID 1 is the reference the project agreed on. Some sandboxes deny reading PID 1's ns links (EACCES
    // without CAP_SYS_PTRACE over it); kthreadd (PID 2) is a kernel thread and so always sits in the initial
    // netns, which makes it an equally good reference when its link is readable.
    private static readonly (string Link, string? Comm)[] InitialReferences =
        [("/proc/1/ns/net", null), ("/proc/2/ns/net", "kthreadd")];

    /// <summary>Returns null when it is safe to run, otherwise the reason it is not.</summary>
    public static string? WhyUnsafe()
    {
        // The link text is "net:[<inode>]": equal text means the same namespace. FileInfo.LinkTarget
        // cannot read these (procfs reports a zero link size), so ask readlink(2) directly.
        var own = ReadLink(Own);
        if (own is null)
            return $"failed to read network namespace link {Own}: errno {Marshal.GetLastPInvokeError()}";

        var problems = new List<string>();
        foreach (var (link, comm) in InitialReferences)
        {
            if (comm is not null && !HasComm(link, comm))
            {
                problems.Add($"{link}: not {comm}");
                continue;
            }

            var initial = ReadLink(link);
            if (initial is null)
            {
                problems.Add($"{link}: errno {Marshal.GetLastPInvokeError()}");
                continue;
            }

            return own == initial
                ? $"refusing to run in the initial network namespace ({own}, same as {link}); use bench/run.sh or 'ip netns exec'"
                : null;
        }

        return $"failed to read the initial network namespace: {string.Join("; ", problems)}";
    }

    private static bool HasComm(string nsLink, string comm)
    {
        var commPath = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(nsLink))!, "comm");
        try
        {
            return File.ReadAllText(commPath).Trim() == comm;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string? ReadLink(string path)
    {
        var buffer = new byte[256];
        var length = ReadLink(path, buffer, buffer.Length);
        return length <= 0 ? null : Encoding.ASCII.GetString(buffer, 0, (int)length);
    }

    [LibraryImport("libc", EntryPoint = "readlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint ReadLink(string path, [Out] byte[] buffer, nint size);
}
