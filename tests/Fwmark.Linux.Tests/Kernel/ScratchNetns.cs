using System.Text.Json.Nodes;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// A network namespace created for one test (`ip netns add fwl-&lt;random&gt;`) and deleted on
/// dispose. Refuses to hand out a namespace that is the test process's own or the initial one,
/// so kernel-mutating code can never reach the host's ruleset.
/// </summary>
internal sealed class ScratchNetns : IDisposable
{
    public ScratchNetns()
    {
        Name = $"fwl-{Guid.NewGuid():N}"[..16];
        Shell.Run("ip", "netns", "add", Name);
        try
        {
            GuardNotInitial();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }

    public string Path => $"/var/run/netns/{Name}";

    /// <summary>Runs a command inside the namespace.</summary>
    public string Exec(params string[] command) => Shell.Run("ip", ["netns", "exec", Name, .. command]);

    public string Nft(params string[] arguments) => Exec(["nft", .. arguments]);

    /// <summary>`nft list ruleset` — the kernel's view, rendered by the real nft.</summary>
    public string Ruleset() => Nft("list", "ruleset");

    public JsonNode RulesetJson() => JsonNode.Parse(Nft("-j", "list", "ruleset"))!;

    public void Dispose() => Shell.TryRun("ip", "netns", "delete", Name);

    private void GuardNotInitial()
    {
        var target = Inode(Path);
        var own = Inode("/proc/self/ns/net");
        if (target == own)
        {
            throw new InvalidOperationException($"refusing to use {Path}: it is this process's own network namespace");
        }

        // /proc/1 may be unreadable inside a sandbox; when it is readable it must differ too.
        var (code, init, _) = Shell.TryRun("stat", "-L", "-c", "%i", "/proc/1/ns/net");
        if (code == 0 && init.Trim() == target)
        {
            throw new InvalidOperationException($"refusing to use {Path}: it is the initial network namespace");
        }
    }

    private static string Inode(string path) => Shell.Run("stat", "-L", "-c", "%i", path).Trim();
}
