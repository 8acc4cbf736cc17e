using System.Net;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// Every kernel test gets its own scratch namespace (the test bed's <see cref="Netns"/>, guarded), an
/// <see cref="NftDataplane"/> bound to it and a private lock file; all of it is removed afterwards, also
/// when the test fails.
/// </summary>
public abstract class KernelTestBase : IDisposable
{
    private readonly CleanupStack _scratch = new();

    protected KernelTestBase()
    {
        try
        {
            var lockDirectory = Path.Combine(Path.GetTempPath(), $"fwl-lock-{Guid.NewGuid():N}");
            _scratch.Push($"lock dir {lockDirectory}", () =>
            {
                if (Directory.Exists(lockDirectory))
                {
                    Directory.Delete(lockDirectory, recursive: true);
                }
            });
            Node = NewNetns();
            LockPath = Path.Combine(lockDirectory, "run", "fwmark.lock");
            Dataplane = new NftDataplane(Node.Path, LockPath);
        }
        catch
        {
            _scratch.Dispose();
            throw;
        }
    }

    internal Netns Node { get; }

    protected string LockPath { get; }

    protected NftDataplane Dataplane { get; }

    protected static readonly MarkSpec Vpn = new("vpn", 0x10, 0x10);

    protected static readonly MarkSpec Gw2 = new("gw2", 0x888, 0xfff);

    protected static readonly AttachmentOwner PodA = new("net1", "container-a", "eth0");

    protected static readonly AttachmentOwner PodB = new("net1", "container-b", "eth0");

    protected static IPAddress Ip(string text) => IPAddress.Parse(text);

    /// <summary>A bridge-port target: host interface <paramref name="name"/> with the pod's addresses.</summary>
    protected static Core.Paths.MarkTarget Port(string name, params string[] addresses) =>
        new(new Core.Paths.AttachmentPath(Core.Paths.MarkKeying.BridgePort, name, "test"), [.. addresses.Select(Ip)]);

    /// <summary>A routed target (input interface): host interface <paramref name="name"/> with the pod's addresses.</summary>
    protected static Core.Paths.MarkTarget Routed(string name, params string[] addresses) =>
        new(new Core.Paths.AttachmentPath(Core.Paths.MarkKeying.InputInterface, name, "test"), [.. addresses.Select(Ip)]);

    /// <summary>The structure claim the dataplane left beside its lock (Dataplane/StructureClaim.cs), whatever its generation; null when none.</summary>
    internal StructureClaim? ClaimOnFile()
    {
        var path = new StructureClaimFile(Path.GetDirectoryName(LockPath)!).Path;
        return File.Exists(path) ? StructureClaim.Parse(File.ReadAllText(path)) : null;
    }

    /// <summary>The node namespace's nf_tables generation (moves on with every committed transaction).</summary>
    internal uint Generation()
    {
        using var socket = Netlink.NetlinkConversation.Open(Netlink.NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        return new NfTables.NftClient(socket, FwmarkRuleset.Table).GetGeneration();
    }

    /// <summary>The node namespace's cookie, as the dataplane's claims name it.</summary>
    internal ulong? NodeCookie()
    {
        using var socket = Netlink.NetlinkSocket.Open(Netlink.NetlinkConstants.NETLINK_NETFILTER, Node.Path);
        return socket.NetnsCookie;
    }

    /// <summary>Another scratch namespace (fwl-&lt;random&gt;), removed with this test's node namespace.</summary>
    internal Netns NewNetns() => Netns.CreateUnique("fwl", _scratch);

    /// <summary>Extra teardown of derived tests; runs before the namespaces go away.</summary>
    protected virtual void Cleanup()
    {
    }

    public void Dispose()
    {
        Cleanup();
        _scratch.Dispose();
        GC.SuppressFinalize(this);
    }
}
