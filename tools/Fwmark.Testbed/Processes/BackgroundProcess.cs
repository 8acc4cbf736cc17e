using System.Diagnostics;
using System.Text;

namespace Fwmark.Testbed.Processes;

/// <summary>A long-running process this testbed started; stopped by its own PID only.</summary>
public sealed class BackgroundProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    internal BackgroundProcess(Process process, string command)
    {
        _process = process;
        Command = command;
        Pid = process.Id;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid { get; }

    public string Command { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Sends SIGTERM to this process's PID (not to its tree) and waits up to <paramref name="timeout"/>
    /// for it to exit; false when it did not.
    /// </summary>
    public bool Terminate(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return true;
        }

        ProcessRunner.Run(new CommandSpec("kill", "-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        return _process.WaitForExit(timeout);
    }

    /// <summary>Everything the process printed so far (stdout and stderr interleaved), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Kills the process and the children it forked (by PID), then waits for it.</summary>
    public void Stop()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit(5000);
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }
}
