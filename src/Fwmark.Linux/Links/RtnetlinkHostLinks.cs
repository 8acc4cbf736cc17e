using System.Runtime.InteropServices;
using Fwmark.Core;
using Fwmark.Core.Paths;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.Rtnetlink;
using Fwmark.Linux.Session;

namespace Fwmark.Linux.Links;

/// <summary>
/// <see cref="IHostLinks"/> over rtnetlink: RTM_GETLINK by name, read for the link's kind
/// (IFLA_LINKINFO/IFLA_INFO_KIND), its veth peer (IFLA_LINK) and its master (IFLA_MASTER, then that link's
/// name and kind). The pod's side is read through a socket created inside the pod's namespace; the
/// process never changes namespace.
/// </summary>
public sealed class RtnetlinkHostLinks : IHostLinks
{
    private const ushort IflaLink = 5;
    private const ushort IflaMaster = 10;
    private const ushort IflaLinkInfo = 18;
    private const ushort IflaInfoKind = 1;

    private readonly string? _nodeNetns;

    /// <param name="nodeNetns">The namespace the plugin programs (tests); null = the current one (production).</param>
    public RtnetlinkHostLinks(string? nodeNetns = null) => _nodeNetns = nodeNetns;

    public HostLink? Find(string name) => Read(_nodeNetns, name);

    public HostLink? FindInPod(string netnsPath, string name) => Read(netnsPath, name);

    private static HostLink? Read(string? netns, string name)
    {
        try
        {
            using var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_ROUTE, netns);
            if (Get(socket, name, 0) is not { } link)
            {
                return null;
            }

            var master = link.MasterIndex is { } index && Get(socket, null, index) is { } m
                ? new HostLink(m.Name, m.Index, m.Kind, m.PeerIndex, null)
                : null;
            return new HostLink(link.Name, link.Index, link.Kind, link.PeerIndex, master);
        }
        catch (Exception e) when (e is not DataplaneException)
        {
            throw LinuxErrors.Translate($"read interface {name}{(netns is null ? "" : $" in {netns}")}", e);
        }
    }

    private sealed record RawLink(string Name, int Index, string? Kind, int? PeerIndex, int? MasterIndex);

    private static RawLink? Get(NetlinkConversation socket, string? name, int index)
    {
        var writer = new NetlinkWriter(128);
        RtnlCodec.WriteLinkGet(ref writer, name, index, socket.NextSequence());
        RawLink? found = null;
        try
        {
            socket.Request(writer.WrittenSpan, (in NetlinkMessage reply) =>
            {
                if (reply.Type == Rtnl.RTM_NEWLINK)
                {
                    found = Parse(reply);
                }
            });
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENODEV)
        {
            return null;
        }

        return found;
    }

    private static RawLink Parse(in NetlinkMessage message)
    {
        var header = message.Payload;
        if (header.Length < Rtnl.LinkHeaderSize)
        {
            throw new NetlinkFormatException("link message shorter than ifinfomsg");
        }

        var index = MemoryMarshal.Read<int>(header[4..]);
        string? name = null, kind = null;
        int? peer = null, master = null;
        var attributes = message.Attributes(Rtnl.LinkHeaderSize);
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case LinkAttr.IfName:
                    name = attribute.GetString();
                    break;
                case IflaLink:
                    peer = (int)attribute.GetU32();
                    break;
                case IflaMaster:
                    master = (int)attribute.GetU32();
                    break;
                case IflaLinkInfo:
                    if (attribute.GetNested().TryFind(IflaInfoKind, out var k))
                    {
                        kind = k.GetString();
                    }

                    break;
            }
        }

        return new RawLink(name ?? throw new NetlinkFormatException("link without a name"), index, kind, peer, master);
    }
}
