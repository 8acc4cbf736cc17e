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
        TestNetns.Create(Name);
    }

    public string Name { get; }

    public string Path => $"/var/run/netns/{Name}";

    /// <summary>Runs a command inside the namespace.</summary>
    public string Exec(params string[] command) => Shell.Run("ip", ["netns", "exec", Name, .. command]);

    public string Nft(params string[] arguments) => Exec(["nft", .. arguments]);

    /// <summary>`nft list ruleset` — the kernel's view, rendered by the real nft.</summary>
    public string Ruleset() => Nft("list", "ruleset");

    public JsonNode RulesetJson() => JsonNode.Parse(Nft("-j", "list", "ruleset"))!;

    public void Dispose() => TestNetns.Delete(Name);
}
