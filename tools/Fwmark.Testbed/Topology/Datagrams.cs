using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Testbed.Topology;

/// <summary>
/// One-way UDP datagrams from inside a pod, counted at the gateways (<see cref="Gateway.Watch"/>), for the
/// traffic a hostile pod can make that no TCP reply would come back to: a source address the pod added
/// itself, or one it forged on a raw socket.
/// </summary>
public static class Datagrams
{
    /// <summary>The discard port: nothing answers, the gateways only count.</summary>
    public const int Port = 9;

    /// <summary><paramref name="count"/> datagrams through an ordinary UDP socket bound to <paramref name="source"/> (an address the pod holds).</summary>
    public static void SendFrom(Netns netns, IPAddress source, IPAddress destination, int count = 3)
    {
        var v6 = destination.AddressFamily == AddressFamily.InterNetworkV6;
        var target = v6 ? $"UDP6-SENDTO:[{destination}]:{Port},bind=[{source}]" : $"UDP4-SENDTO:{destination}:{Port},bind={source}";
        for (var i = 0; i < count; i++)
        {
            netns.Exec(new CommandSpec("socat", "-u", "-", target) { Stdin = $"datagram {i}" }).EnsureSuccess();
        }
    }

    /// <summary>
    /// <paramref name="count"/> hand-built IPv4/UDP packets with any <paramref name="source"/>, written through a raw
    /// socket with IP_HDRINCL (socat's <c>hdrincl</c>): what a container's default NET_RAW capability allows. The
    /// kernel fills in the header checksum; the source stays as written.
    /// </summary>
    public static void SendForged(Netns netns, IPAddress source, IPAddress destination, string workDir, int count = 3)
    {
        var file = Path.Combine(workDir, $"forged-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(file, ForgedPacket(source, destination));
        try
        {
            for (var i = 0; i < count; i++)
            {
                netns.Exec("socat", "-u", $"OPEN:{file}", $"IP4-SENDTO:{destination}:17,hdrincl=1").EnsureSuccess();
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>IPv4 header (20 bytes, TTL 64, protocol UDP) + UDP header (checksum 0: none, allowed on IPv4) + 8 bytes.</summary>
    public static byte[] ForgedPacket(IPAddress source, IPAddress destination)
    {
        var packet = new byte[20 + 8 + 8];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        packet[8] = 64;
        packet[9] = 17;
        source.GetAddressBytes().CopyTo(packet, 12);
        destination.GetAddressBytes().CopyTo(packet, 16);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(20), 40000);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(22), Port);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(24), 16);
        "forged!!"u8.CopyTo(packet.AsSpan(28));
        return packet;
    }
}
