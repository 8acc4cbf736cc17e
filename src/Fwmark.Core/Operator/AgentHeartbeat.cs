namespace Fwmark.Core.Operator;

/// <summary>
/// How a running <c>fwmark agent</c> makes itself known, and how <c>fwmark doctor</c> tells. The agent
/// writes its PID into <c>RUN_DIR/agent.heartbeat</c> when it starts and rewrites the file at least every
/// <see cref="Interval"/>; it counts as running while the file exists, names a live process, and is younger
/// than <see cref="MaxAge"/>. A file, not a socket: it survives no reboot (RUN_DIR is a tmpfs), needs no
/// listener, and a hung agent stops refreshing it, which a lock or a PID alone would not show.
/// </summary>
public static class AgentHeartbeat
{
    public const string DefaultRunDir = "/run/fwmark";

    public const string FileName = "agent.heartbeat";

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    public static string PathIn(string runDir) => Path.Combine(runDir, FileName);

    /// <summary>For the agent: (re)writes the heartbeat atomically (a reader never sees half a file).</summary>
    public static void Beat(string runDir, int pid)
    {
        Directory.CreateDirectory(runDir);
        var path = PathIn(runDir);
        var temp = $"{path}.{pid}.tmp";
        File.WriteAllText(temp, $"{pid}\n");
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Null when an agent is running; otherwise why it is not considered running.</summary>
    public static string? Problem(string runDir, DateTime nowUtc)
    {
        var path = PathIn(runDir);
        string text;
        DateTime written;
        try
        {
            if (!File.Exists(path))
            {
                return $"{path} does not exist: no agent has started since boot, or it was stopped";
            }

            text = File.ReadAllText(path).Trim();
            written = File.GetLastWriteTimeUtc(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"failed to read {path}: {e.Message}";
        }

        if (!int.TryParse(text, out var pid) || pid <= 0)
        {
            return $"{path} holds \"{text}\", not a PID";
        }

        if (!Directory.Exists($"/proc/{pid}"))
        {
            return $"the agent (PID {pid} in {path}) is not running any more";
        }

        var age = nowUtc - written;
        return age > MaxAge
            ? $"the agent (PID {pid}) last wrote {path} {age.TotalSeconds:0} s ago (more than {MaxAge.TotalSeconds:0} s): it is hung or stopped"
            : null;
    }
}
