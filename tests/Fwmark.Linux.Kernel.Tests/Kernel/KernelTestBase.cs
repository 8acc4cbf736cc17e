using System.Net;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Kernel;

/// <summary>
/// Every kernel test gets its own scratch namespace, an <see cref="NftDataplane"/> bound to it and
/// a private lock file; all of it is removed afterwards, also when the test fails.
/// </summary>
public abstract class KernelTestBase : IDisposable
{
    private readonly string _lockDirectory = Path.Combine(Path.GetTempPath(), $"fwl-lock-{Guid.NewGuid():N}");

    protected KernelTestBase()
    {
        Node = new ScratchNetns();
        LockPath = Path.Combine(_lockDirectory, "run", "fwmark.lock");
        Dataplane = new NftDataplane(Node.Path, LockPath);
    }

    internal ScratchNetns Node { get; }

    protected string LockPath { get; }

    protected NftDataplane Dataplane { get; }

    protected static readonly MarkSpec Vpn = new("vpn", 0x10, 0x10);

    protected static readonly MarkSpec Gw2 = new("gw2", 0x888, 0xfff);

    protected static readonly AttachmentOwner PodA = new("net1", "container-a", "eth0");

    protected static readonly AttachmentOwner PodB = new("net1", "container-b", "eth0");

    protected static IPAddress Ip(string text) => IPAddress.Parse(text);

    /// <summary>Extra teardown of derived tests; runs before the node namespace goes away.</summary>
    protected virtual void Cleanup()
    {
    }

    public void Dispose()
    {
        Cleanup();
        Node.Dispose();
        if (Directory.Exists(_lockDirectory))
        {
            Directory.Delete(_lockDirectory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
