using System.Net;
using System.Net.Sockets;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Testbed.Topology;

/// <summary>Opens one real TCP connection from inside a namespace (a pod) and reads what the server saw.</summary>
public static class EchoClient
{
    public static EchoReply Ask(Netns from, IPAddress server, int port = EchoServer.DefaultPort)
    {
        var target = server.AddressFamily == AddressFamily.InterNetworkV6
            ? $"TCP6:[{server}]:{port}"
            : $"TCP4:{server}:{port}";

        // Bounded at every step: connect, inactivity, and the whole exec.
        var result = from.Exec(new CommandSpec("socat", "-u", "-T", "5", $"{target},connect-timeout=5", "STDOUT")
        {
            Timeout = TimeSpan.FromSeconds(15),
        });

        var text = result.Stdout.Trim().Trim('[', ']');
        return new EchoReply(result.Succeeded && IPAddress.TryParse(text, out var seen) ? seen : null, result);
    }
}
