namespace Fwmark.Testbed.Processes;

/// <summary>What one exec'd command did; <see cref="Command"/> is a readable rendering for failure messages.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Stdout, string Stderr, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>From just before the process was started until it had exited and closed its output streams.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Throws with the command line, exit code and both streams when the command failed.</summary>
    public CommandResult EnsureSuccess()
    {
        if (!Succeeded)
        {
            throw new TestbedException($"failed to run {Describe()}");
        }

        return this;
    }

    public string Describe()
    {
        var status = TimedOut ? "timed out" : $"exit {ExitCode}";
        return $"`{Command}` ({status})\n--- stdout:\n{Stdout.TrimEnd()}\n--- stderr:\n{Stderr.TrimEnd()}";
    }
}
