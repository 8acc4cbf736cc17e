using System.Diagnostics;
using System.Text;

namespace Fwmark.Bench;

/// <summary>One finished exec: what the binary printed, how it exited, and how long it took.</summary>
internal sealed record ExecResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

/// <summary>
/// Runs a binary the way a CNI runtime does: fork/exec with an explicit environment, write the whole
/// config to stdin and close it, read stdout to the end, wait for exit. The clock runs from just before
/// Process.Start to just after the exit was reaped, so it holds everything a runtime waits for.
/// </summary>
internal static class Exec
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static ExecResult Run(string path, IReadOnlyDictionary<string, string> env, string stdin)
    {
        var info = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // No BOM: the plugin must see exactly the JSON bytes a runtime writes.
            StandardInputEncoding = new UTF8Encoding(false),
        };

        // A runtime passes its own environment plus CNI_*; ours would add DOTNET_* noise, so keep only PATH.
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        // The plugin's state dir (lock, attachment records): run.sh points it at a scratch dir, never /run/fwmark.
        if (Environment.GetEnvironmentVariable("FWMARK_RUN_DIR") is { Length: > 0 } stateDir)
            info.Environment["FWMARK_RUN_DIR"] = stateDir;
        foreach (var (key, value) in env)
            info.Environment[key] = value;

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info)
            ?? throw new InvalidOperationException($"failed to start binary {path}: Process.Start returned null");

        // stderr drains on its own task so a chatty child can never block on a full pipe.
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child exited without reading its config (EPIPE). Runtimes ignore this too; the exit code
            // and stderr below say what went wrong.
        }

        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill();
            throw new TimeoutException($"failed to wait for binary {path}: still running after {Timeout.TotalSeconds}s");
        }

        clock.Stop();
        return new ExecResult(process.ExitCode, stdout, stderr.GetAwaiter().GetResult(), clock.Elapsed);
    }
}
