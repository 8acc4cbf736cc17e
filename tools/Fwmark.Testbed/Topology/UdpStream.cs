using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.Testbed.Topology;

/// <summary>
/// A steady stream of UDP datagrams from a pod to the internet server (one every <see cref="Interval"/>,
/// about 1 ms), sent from a socket created inside the pod's network namespace. Gateways count what passes
/// them (<see cref="Gateway.Watch"/>), so a leak is a number of real packets, not an inference. Every
/// datagram is routed by the node on its own: no socket route cache is involved (the node forwards).
/// </summary>
public sealed partial class UdpStream : IDisposable
{
    public const int DiscardPort = 9;

    private readonly Socket _socket;
    private readonly IPEndPoint _target;
    private readonly Thread _sender;
    private volatile bool _stop;
    private long _sent;

    private UdpStream(Socket socket, IPEndPoint target)
    {
        _socket = socket;
        _target = target;
        _sender = new Thread(Send) { IsBackground = true, Name = "udp-stream" };
        _sender.Start();
    }

    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(1);

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Starts sending from <paramref name="pod"/> to <paramref name="server"/>.</summary>
    public static UdpStream Start(Netns pod, IPAddress server)
    {
        NetnsGuard.EnsureNotInitial(pod.Path);
        var socket = InNamespace(pod.Path, () => new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
        return new UdpStream(socket, new IPEndPoint(server, DiscardPort));
    }

    public void Dispose()
    {
        _stop = true;
        _sender.Join();
        _socket.Dispose();
    }

    private void Send()
    {
        var payload = new byte[32];
        var clock = Stopwatch.StartNew();
        var next = TimeSpan.Zero;
        while (!_stop)
        {
            try
            {
                _socket.SendTo(payload, _target);
                Interlocked.Increment(ref _sent);
            }
            catch (SocketException)
            {
                // An ICMP error from an earlier datagram (port unreachable, no route) surfaces on a later send.
            }

            next += Interval;
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }
        }
    }

    /// <summary>setns(2) moves only the calling thread: create the socket on a throw-away thread inside the namespace.</summary>
    private static T InNamespace<T>(string netnsPath, Func<T> create)
    {
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var target = File.OpenHandle(netnsPath);
                if (SetNs(target.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
                {
                    throw new TestbedException($"setns({netnsPath}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                result = create();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? result! : throw new TestbedException($"failed to create a socket in {netnsPath}: {failure.Message}");
    }

    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}
