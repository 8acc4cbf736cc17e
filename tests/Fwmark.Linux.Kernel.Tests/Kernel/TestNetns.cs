using Fwmark.Testbed.Namespaces;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// Creates the network namespaces kernel tests run in, and refuses (with the test bed's guard) any
/// namespace the host could be behind, so kernel-mutating code under test can never reach the host's
/// ruleset or routing.
/// </summary>
internal static class TestNetns
{
    /// <summary>`ip netns add <paramref name="name"/>`, then the guard; a refused namespace is deleted again.</summary>
    public static void Create(string name)
    {
        Shell.Run("ip", "netns", "add", name);
        try
        {
            Guard(name);
        }
        catch
        {
            Delete(name);
            throw;
        }
    }

    public static void Delete(string name) => Shell.TryRun("ip", "netns", "delete", name);

    /// <summary>The repository's one guard (tools/Fwmark.Testbed): not the initial or our own namespace, and freshly made.</summary>
    private static void Guard(string name) => NetnsGuard.EnsureFresh(Netns.Open(name));
}
