using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Runtimes.Tests.Infrastructure;

/// <summary>
/// Runs a command with only its network namespace switched (<c>nsenter --net</c>). Container runtimes need
/// this instead of <c>ip netns exec</c>, which remounts /sys and so hides the cgroup mounts runc and podman use.
/// The namespace's environment comes along, as with <see cref="Netns.Run(string, string[])"/>: its FWMARK_RUN_DIR
/// reaches the runtime and, through it, every plugin it execs, so the run's records and claims stay in the run's
/// state directory instead of the machine's /run/fwmark.
/// </summary>
internal static class Nsenter
{
    public static CommandSpec Wrap(Netns netns, CommandSpec spec)
    {
        NetnsGuard.EnsureNotInitial(netns.Path);
        return spec with { FileName = "nsenter", Args = [$"--net={netns.Path}", "--", spec.FileName, .. spec.Args], Env = netns.EnvironmentFor(spec) };
    }

    public static CommandResult Run(Netns netns, CommandSpec spec) => ProcessRunner.Run(Wrap(netns, spec));

    public static BackgroundProcess Start(Netns netns, CommandSpec spec) => ProcessRunner.StartBackground(Wrap(netns, spec));
}
