using Fwmark.Testbed.Processes;

namespace Fwmark.Bench;

/// <summary>A plugin call exited non-zero: the run is void, whatever the timings looked like.</summary>
internal sealed class PluginCallFailedException(CniVerb verb, FakePod pod, CommandResult result)
    : Exception(
        $"failed to run plugin {verb.ToString().ToUpperInvariant()} for container {pod.ContainerId} ({pod.PodName}): " +
        $"exit code {result.ExitCode}\nstdout: {result.Stdout.Trim()}\nstderr: {result.Stderr.Trim()}")
{
    public CniVerb Verb { get; } = verb;

    public int ExitCode { get; } = result.ExitCode;
}
