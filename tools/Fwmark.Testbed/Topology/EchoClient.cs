using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Testbed.Topology;

/// <summary>Opens one real TCP connection from inside a namespace (a pod) and reads what the server saw.</summary>
public static class EchoClient
{
    /// <summary>
    /// <paramref name="connectTimeout"/> (default 5 s) bounds the TCP handshake: tests that expect a silently
    /// dropped handshake shorten it; <see cref="EchoReply.Elapsed"/> tells a fast failure from a timeout.
    /// </summary>
    public static EchoReply Ask(Netns from, IPAddress server, int port = EchoServer.DefaultPort, TimeSpan? connectTimeout = null)
    {
        var connect = (connectTimeout ?? TimeSpan.FromSeconds(5)).TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var target = server.AddressFamily == AddressFamily.InterNetworkV6
            ? $"TCP6:[{server}]:{port}"
            : $"TCP4:{server}:{port}";

        // Bounded at every step: connect, inactivity, and the whole exec.
        var clock = Stopwatch.StartNew();
        var result = from.Exec(new CommandSpec("socat", "-u", "-T", "5", $"{target},connect-timeout={connect}", "STDOUT")
        {
            Timeout = TimeSpan.FromSeconds(15),
        });
        var elapsed = clock.Elapsed;

        var text = result.Stdout.Trim().Trim('[', ']');
        return new EchoReply(result.Succeeded && IPAddress.TryParse(text, out var seen) ? seen : null, result) { Elapsed = elapsed };
    }
}
