using System.Net;
using System.Net.Sockets;
using Fwmark.Testbed.Cleanup;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Testbed.Topology;

/// <summary>
/// The "internet" server: for every TCP connection it writes back the source address it saw and closes.
/// Two socat listeners (v4 and v6), started and stopped by PID.
/// </summary>
public sealed class EchoServer
{
    public const int DefaultPort = 8080;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);
    private readonly BackgroundProcess[] _listeners;

    private EchoServer(int port, BackgroundProcess[] listeners)
    {
        Port = port;
        _listeners = listeners;
    }

    public int Port { get; }

    public IReadOnlyList<int> Pids => [.. _listeners.Select(l => l.Pid)];

    /// <summary>Listens on <paramref name="addresses"/> (one listener each) in <paramref name="netns"/>.</summary>
    public static EchoServer Start(Netns netns, CleanupStack cleanup, int port, params IPAddress[] addresses)
    {
        var listeners = new List<BackgroundProcess>();
        foreach (var address in addresses)
        {
            var listen = address.AddressFamily == AddressFamily.InterNetworkV6
                ? $"TCP6-LISTEN:{port},bind=[{address}]"
                : $"TCP4-LISTEN:{port},bind={address}";
            // SYSTEM: runs through /bin/sh, where socat has exported the peer address of this connection.
            var listener = netns.Start(new CommandSpec("socat", $"{listen},reuseaddr,fork", "SYSTEM:echo $SOCAT_PEERADDR"));
            cleanup.Push($"echo server pid {listener.Pid}", listener.Dispose);
            listeners.Add(listener);
        }

        var server = new EchoServer(port, [.. listeners]);
        server.WaitUntilListening(netns, addresses);
        return server;
    }

    private void WaitUntilListening(Netns netns, IPAddress[] addresses)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            var listening = netns.Run("ss", "-Hltn").Stdout;
            if (addresses.All(a => listening.Contains(a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{a}]:{Port}" : $"{a}:{Port}")))
            {
                return;
            }

            var dead = _listeners.FirstOrDefault(l => l.HasExited);
            if (dead is not null || DateTime.UtcNow > deadline)
            {
                var why = dead is null ? "timed out" : $"`{dead.Command}` exited: {dead.Output}";
                throw new TestbedException($"failed to start echo server in {netns}: {why}\n{listening}");
            }

            Thread.Sleep(50);
        }
    }
}

/// <summary>What a client got back from the echo server.</summary>
public sealed record EchoReply(IPAddress? Observed, CommandResult Raw)
{
    public bool Connected => Observed is not null;

    /// <summary>Wall time of the whole client exec (includes ip netns exec and socat start-up).</summary>
    public TimeSpan Elapsed { get; init; }
}
