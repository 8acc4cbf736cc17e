using System.Diagnostics;
using Fwmark.Testbed;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Runtimes.Tests.Infrastructure;

/// <summary>
/// A pod's or container's network namespace that a runtime created and pinned under /var/run/netns (containerd:
/// cni-UUID, podman: netns-UUID). The tests only enter it to open connections from the pod's address.
/// </summary>
internal static class RuntimeNetns
{
    private const string Pins = "/var/run/netns/";
    private static readonly TimeSpan DadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The runtime's netns at <paramref name="path"/> (/var/run/netns/NAME or /run/netns/NAME), guarded.</summary>
    public static Netns Open(string path)
    {
        var name = Path.GetFileName(path);
        if (!File.Exists(Pins + name))
        {
            throw new TestbedException($"failed to find the runtime's netns {path} under {Pins}");
        }

        return Netns.Open(name);
    }

    /// <summary>
    /// A namespace made by a runtime keeps the kernel's default duplicate address detection, so a fresh IPv6
    /// address is "tentative" for a second or two and a connect from it fails. Wait until none is left.
    /// </summary>
    public static void WaitForUsableIPv6(Netns netns)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var tentative = netns.Run("ip", "-6", "-o", "addr", "show", "tentative").Stdout;
            if (tentative.Trim().Length == 0)
            {
                return;
            }

            if (clock.Elapsed > DadTimeout)
            {
                throw new TestbedException($"IPv6 addresses in {netns} still tentative after {DadTimeout.TotalSeconds} s:\n{tentative}");
            }

            Thread.Sleep(100);
        }
    }

    /// <summary>
    /// Last-resort cleanup for a namespace a runtime should have removed: kill what still runs in it (only
    /// processes of pods this test started live there) and drop the pin. Quiet when it is already gone.
    /// </summary>
    public static void RemoveLeftover(string path)
    {
        var name = Path.GetFileName(path);
        if (!File.Exists(Pins + name) || NetnsGuard.IsInitial(Pins + name))
        {
            return;
        }

        var pids = ProcessRunner.Run(new CommandSpec("ip", "netns", "pids", name)).Stdout;
        foreach (var line in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line, out var pid))
            {
                ProcessRunner.Run(new CommandSpec("kill", "-KILL", $"{pid}"));
            }
        }

        ProcessRunner.Run(new CommandSpec("ip", "netns", "delete", name));
    }
}
