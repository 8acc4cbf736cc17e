using System.Diagnostics;
using System.Text;

namespace Fwmark.Testbed.Processes;

/// <summary>
/// Runs a command to completion with captured output and a hard timeout (a hung plugin must fail a test,
/// not hang the run), or starts a long-lived one whose PID the caller owns.
/// </summary>
public static class ProcessRunner
{
    public static CommandResult Run(CommandSpec spec)
    {
        // The clock holds everything a runtime waits for: start, stdin, exit and the end of both streams.
        var clock = Stopwatch.StartNew();
        using var process = Start(spec);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        WriteStdin(process, spec.Stdin);

        var timedOut = !process.WaitForExit(spec.Timeout);
        if (timedOut)
        {
            // Only the tree this call started, by its PID.
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        // The streams end once the process and any child still holding them are gone; bound the wait anyway.
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(5));
        var elapsed = clock.Elapsed;
        return new CommandResult(
            spec.ToString(),
            timedOut ? -1 : process.ExitCode,
            stdout.IsCompletedSuccessfully ? stdout.Result : "",
            stderr.IsCompletedSuccessfully ? stderr.Result : "",
            timedOut)
        { Elapsed = elapsed };
    }

    /// <summary>Starts a long-running command; its output is drained into the returned handle.</summary>
    public static BackgroundProcess StartBackground(CommandSpec spec)
    {
        var process = Start(spec);
        WriteStdin(process, spec.Stdin);
        return new BackgroundProcess(process, spec.ToString());
    }

    private static Process Start(CommandSpec spec)
    {
        var info = new ProcessStartInfo(spec.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            // No BOM: a plugin must see exactly the JSON bytes a runtime writes.
            StandardInputEncoding = new UTF8Encoding(false),
        };
        foreach (var arg in spec.Args)
        {
            info.ArgumentList.Add(arg);
        }

        if (!spec.InheritEnvironment)
        {
            info.Environment.Clear();
        }

        var inherited = info.Environment.Keys
            .Where(k => spec.DropInheritedPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal)))
            .ToList();
        foreach (var key in inherited)
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in spec.Env)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        return Process.Start(info) ?? throw new TestbedException($"failed to start {spec}: no process");
    }

    private static void WriteStdin(Process process, string? stdin)
    {
        try
        {
            if (!string.IsNullOrEmpty(stdin))
            {
                process.StandardInput.Write(stdin);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The command exited without reading stdin (e.g. it rejected its environment first); its exit
            // code and output tell the story.
        }
    }
}
