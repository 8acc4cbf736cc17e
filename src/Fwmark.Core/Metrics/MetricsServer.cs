using System.Net;
using System.Net.Sockets;
using System.Text;
using Fwmark.Core.Agent;

namespace Fwmark.Core.Metrics;

/// <summary>
/// A minimal HTTP/1.1 server for Prometheus: GET /metrics answers 200 with the text <see cref="_render"/> makes,
/// anything else 404 or 405; one request per connection (Connection: close). TcpListener rather than HttpListener:
/// no extra dependency, and nothing in it that Native AOT trims or warns about. A request must arrive within
/// <see cref="RequestTimeout"/> and fit <see cref="MaxRequestBytes"/>, so a stuck client cannot pin the agent.
/// </summary>
public sealed class MetricsServer : IAgentLoop, IDisposable
{
    public const int DefaultPort = 9573;

    public const string DefaultAddress = "127.0.0.1:9573";

    private const int MaxRequestBytes = 16 * 1024;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly TcpListener _listener;
    private readonly Func<string> _render;
    private readonly TextWriter _log;
    private readonly IDisposable? _owned;

    private MetricsServer(TcpListener listener, Func<string> render, TextWriter log, IDisposable? owned)
    {
        _listener = listener;
        _render = render;
        _log = log;
        _owned = owned;
    }

    public string Name => "metrics";

    /// <summary>Where it listens (the port is the kernel's choice when 0 was asked for).</summary>
    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>
    /// Binds at once, so a taken port fails the agent's start rather than a later scrape. Throws <see cref="SocketException"/>.
    /// <paramref name="owned"/> (what <paramref name="render"/> reads from) is disposed with the server.
    /// </summary>
    public static MetricsServer Start(IPEndPoint endpoint, Func<string> render, TextWriter log, IDisposable? owned = null)
    {
        var listener = new TcpListener(endpoint);
        listener.Start();
        return new MetricsServer(listener, render, log, owned);
    }

    /// <summary>
    /// "ADDR:PORT" ("127.0.0.1:9573", "[::1]:9573", "0.0.0.0:9573"); null for "" or "off" (metrics disabled). Throws
    /// <see cref="FormatException"/> with a sentence for anything else.
    /// </summary>
    public static IPEndPoint? ParseAddress(string text)
    {
        if (text.Length == 0 || text == "off")
        {
            return null;
        }

        if (!IPEndPoint.TryParse(text, out var endpoint) || !text.Contains(':', StringComparison.Ordinal) || text.EndsWith(']')
            || (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && !text.StartsWith('[')))
        {
            throw new FormatException($"\"{text}\" is not ADDR:PORT (e.g. {DefaultAddress}, [::1]:{DefaultPort}, or off)");
        }

        return endpoint;
    }

    public async Task RunAsync(CancellationToken stop)
    {
        using var registration = stop.Register(_listener.Stop);
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || (e is SocketException && stop.IsCancellationRequested))
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client, stop), CancellationToken.None);
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _owned?.Dispose();
    }

    private async Task ServeAsync(TcpClient client, CancellationToken stop)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                timeout.CancelAfter(RequestTimeout);
                var stream = client.GetStream();
                var head = await ReadHeadAsync(stream, timeout.Token).ConfigureAwait(false);
                var (status, body, contentType) = Answer(head);
                var bytes = Encoding.UTF8.GetBytes(body);
                var header = $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(header), timeout.Token).ConfigureAwait(false);
                if (!head.StartsWith("HEAD ", StringComparison.Ordinal))
                {
                    await stream.WriteAsync(bytes, timeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // The client went away or was too slow: nothing to answer.
            }
            catch (Exception e)
            {
                _log.WriteLine($"fwmark agent: metrics: failed to answer a request: {e.Message}");
            }
        }
    }

    private (string Status, string Body, string ContentType) Answer(string head)
    {
        var line = head.Split("\r\n", 2)[0].Split(' ');
        if (line.Length != 3 || !line[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            return ("400 Bad Request", "not an HTTP/1.x request\n", "text/plain; charset=utf-8");
        }

        var path = line[1].Split('?', 2)[0];
        if (path != "/metrics")
        {
            return ("404 Not Found", "fwmark agent serves /metrics only\n", "text/plain; charset=utf-8");
        }

        return line[0] is "GET" or "HEAD"
            ? ("200 OK", _render(), PrometheusWriter.ContentType)
            : ("405 Method Not Allowed", "GET /metrics\n", "text/plain; charset=utf-8");
    }

    /// <summary>The request line and headers, up to the blank line.</summary>
    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken cancel)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancel).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal) || text.Contains("\n\n", StringComparison.Ordinal))
            {
                return text;
            }
        }

        return Encoding.ASCII.GetString(buffer, 0, length);
    }
}
