using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Runtimes.Tests.Infrastructure;

/// <summary>
/// Runs a command with only its network namespace switched (<c>nsenter --net</c>). Container runtimes need
/// this instead of <c>ip netns exec</c>, which remounts /sys and so hides the cgroup mounts runc and podman use.
/// </summary>
internal static class Nsenter
{
    public static CommandSpec Wrap(Netns netns, CommandSpec spec)
    {
        NetnsGuard.EnsureNotInitial(netns.Path);
        return spec with { FileName = "nsenter", Args = [$"--net={netns.Path}", "--", spec.FileName, .. spec.Args] };
    }

    public static CommandResult Run(Netns netns, CommandSpec spec) => ProcessRunner.Run(Wrap(netns, spec));

    public static BackgroundProcess Start(Netns netns, CommandSpec spec) => ProcessRunner.StartBackground(Wrap(netns, spec));
}
