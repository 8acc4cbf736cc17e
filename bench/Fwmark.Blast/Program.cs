// Sends minimum-size UDP datagrams (18 bytes of payload: a 64-byte Ethernet frame with its FCS) to one
// destination as fast as one thread can for a given time, and prints how many it sent and for how long.
// usage: Fwmark.Blast <destination> <port> <seconds>
// The receiver counts what arrived (bench/forward.sh reads the sink's interface counters).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

if (args.Length != 3 || !IPAddress.TryParse(args[0], out var destination)
    || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var port)
    || !double.TryParse(args[2], CultureInfo.InvariantCulture, out var seconds))
{
    Console.Error.WriteLine("usage: Fwmark.Blast <destination> <port> <seconds>");
    return 2;
}

using var socket = new Socket(destination.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
socket.Connect(destination, port);
var payload = new byte[18];
var sent = 0L;
var refused = 0L;
var clock = Stopwatch.StartNew();
var until = TimeSpan.FromSeconds(seconds);
while (clock.Elapsed < until)
{
    for (var i = 0; i < 256; i++)
    {
        try
        {
            socket.Send(payload);
            sent++;
        }
        catch (SocketException)
        {
            // ENOBUFS (a full queue) or a late ICMP error: the datagram was not sent; keep going.
            refused++;
        }
    }
}

var elapsed = clock.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sent={sent} refused={refused} seconds={elapsed:F3}"));
return 0;
