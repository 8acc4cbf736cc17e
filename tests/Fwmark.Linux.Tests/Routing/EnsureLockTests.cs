using Fwmark.Core;
using Fwmark.Core.Routing;
using Fwmark.Linux.Locking;
using Fwmark.Linux.Routing;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>
/// Ensure must hold the plugin's lock: it withdraws stale rules of its mark, and two unlocked ADDs
/// routing one mark differently could each withdraw the other's rules (review finding: a leak).
/// </summary>
public class EnsureLockTests : IDisposable
{
    private readonly string _lockPath = Path.Combine(Path.GetTempPath(), $"fwmark-lock-test-{Guid.NewGuid():N}.lock");

    [Fact]
    public void Ensure_waits_for_the_lock_and_gives_up_with_try_again_later()
    {
        // A namespace that does not exist: if Ensure skipped the lock it would fail differently (code 5),
        // and it can never program the host's own namespace.
        var routing = new RtnetlinkRouting("/var/run/netns/fwmark-lock-test-none", _lockPath, TimeSpan.FromMilliseconds(300));
        using var held = FileLock.Acquire(_lockPath, TimeSpan.FromSeconds(1));

        var e = Assert.Throws<DataplaneException>(() =>
            routing.Ensure(new MarkSpec("vpn", 0x10, 0x10), new RouteSpec { Table = 100, Device = "wg0" }));

        Assert.Equal(DataplaneFailure.Busy, e.Kind);
        Assert.Equal("while trying to ensure policy routing of mark vpn", e.Details);
    }

    public void Dispose()
    {
        File.Delete(_lockPath);
        GC.SuppressFinalize(this);
    }
}
