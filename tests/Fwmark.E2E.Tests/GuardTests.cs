using Fwmark.Testbed;
using Fwmark.Testbed.Cleanup;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.E2E.Tests;

/// <summary>The safety net itself: the host namespace is refused, and everything created is removed.</summary>
public sealed class GuardTests
{
    [Theory]
    [InlineData("/proc/self/ns/net")]
    [InlineData("/proc/2/ns/net")]
    public void Guard_refuses_the_initial_namespace(string path)
    {
        var ex = Assert.Throws<UnsafeNetnsException>(() => NetnsGuard.EnsureNotInitial(path));
        Assert.Contains("refusing to run in netns", ex.Message);
    }

    [Fact]
    public void Guard_refuses_a_netns_name_that_points_at_the_host_namespace()
    {
        // `ip netns attach NAME PID` gives the runner's own (host) namespace a name under /var/run/netns:
        // exactly the mistake the guard exists for. Removing the name only unmounts it.
        var name = $"{NodeTestbed.NamePrefix}{Guid.NewGuid().ToString("N")[..6]}-host";
        ProcessRunner.Run(new CommandSpec("ip", "netns", "attach", name, $"{Environment.ProcessId}")).EnsureSuccess();
        try
        {
            Assert.Throws<UnsafeNetnsException>(() => Netns.Open(name));
        }
        finally
        {
            ProcessRunner.Run(new CommandSpec("ip", "netns", "delete", name)).EnsureSuccess();
        }
    }

    [Fact]
    public void A_created_namespace_is_not_the_initial_one_and_is_gone_after_cleanup()
    {
        var name = $"{NodeTestbed.NamePrefix}{Guid.NewGuid().ToString("N")[..6]}-own";
        var cleanup = new CleanupStack();
        var netns = Netns.Create(name, cleanup);
        Assert.False(NetnsGuard.IsInitial(netns.Path));
        Assert.Equal("ok", netns.Run("sh", "-c", "echo ok").Stdout.Trim());

        cleanup.Dispose();

        Assert.Empty(cleanup.Failures);
        Assert.DoesNotContain(name, ProcessRunner.Run(new CommandSpec("ip", "netns", "list")).Stdout);
    }

    [Fact]
    public void Disposing_a_testbed_removes_its_namespaces_and_stops_its_server()
    {
        var bed = NodeTestbed.Create();
        var pids = bed.Server.Pids;
        Assert.Contains(bed.Prefix, NetnsList());

        bed.Dispose();

        Assert.Empty(bed.Cleanup.Failures);
        Assert.DoesNotContain(bed.Prefix, NetnsList());
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"echo server pid {pid} still runs"));
        Assert.False(Directory.Exists(bed.WorkDir));
    }

    [Fact]
    public void Missing_fwmark_binary_is_a_clear_error()
    {
        var unset = Assert.Throws<TestbedException>(() => FwmarkBinary.Check(null));
        Assert.Contains("FWMARK_BIN is not set", unset.Message);
        var missing = Assert.Throws<TestbedException>(() => FwmarkBinary.Check("/nonexistent/fwmark"));
        Assert.Contains("no such file", missing.Message);
        var file = Path.GetTempFileName();
        try
        {
            var notExecutable = Assert.Throws<TestbedException>(() => FwmarkBinary.Check(file));
            Assert.Contains("not executable", notExecutable.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string NetnsList() => ProcessRunner.Run(new CommandSpec("ip", "netns", "list")).Stdout;
}
