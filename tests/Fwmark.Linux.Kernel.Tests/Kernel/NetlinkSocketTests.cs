using System.Buffers.Binary;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Namespaces;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Kernel;

public class NetlinkSocketTests : IDisposable
{
    private readonly ScratchNetns _first = new();
    private readonly ScratchNetns _second = new();

    [Fact]
    public void A_socket_opened_for_a_namespace_sees_that_namespace_only()
    {
        _first.Nft("add", "table", "inet", "fwmark");

        Assert.True(TableExists(_first));
        Assert.False(TableExists(_second));
    }

    [Fact]
    public void Entering_a_namespace_leaves_the_calling_thread_where_it_was()
    {
        var before = File.ResolveLinkTarget("/proc/thread-self/ns/net", false)!.Name;

        var inside = NetworkNamespace.Run(_first.Path, () => File.ResolveLinkTarget("/proc/thread-self/ns/net", false)!.Name);

        Assert.NotEqual(before, inside);
        Assert.Equal(before, File.ResolveLinkTarget("/proc/thread-self/ns/net", false)!.Name);
        Assert.Equal(Shell.Run("stat", "-L", "-c", "net:[%i]", _first.Path).Trim(), inside);
    }

    [Fact]
    public void A_request_without_ack_flag_is_refused_before_sending()
    {
        using var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, _first.Path);
        var writer = new NetlinkWriter();
        var message = NftMessage.Begin(ref writer, NftMessageType.GetGen, NetlinkConstants.NLM_F_REQUEST, socket.NextSequence(), 0);
        writer.EndMessage(message);
        var request = writer.ToArray();

        Assert.Throws<ArgumentException>(() => socket.Request(request));
    }

    [Fact]
    public void Kernel_errors_carry_errno_and_the_extended_ack_text()
    {
        // The socket core is protocol-agnostic: an rtnetlink RTM_NEWROUTE for 10.1.2.3/8 (host
        // bits set) in a scratch namespace, which the kernel refuses with an ext-ack message.
        using var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_ROUTE, _first.Path);
        var writer = new NetlinkWriter();
        const ushort RtmNewRoute = 24;
        var message = writer.BeginMessage(
            RtmNewRoute,
            NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_ACK | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_EXCL,
            socket.NextSequence());
        var rtmsg = writer.ReserveHeader(12);
        rtmsg[0] = 2;   // AF_INET
        rtmsg[1] = 8;   // dst_len
        rtmsg[4] = 254; // RT_TABLE_MAIN
        rtmsg[5] = 3;   // RTPROT_BOOT
        rtmsg[7] = 1;   // RTN_UNICAST
        Span<byte> destination = [10, 1, 2, 3];
        writer.WriteAttribute(1, destination); // RTA_DST
        writer.WriteU32(4, 1);                  // RTA_OIF = lo
        writer.EndMessage(message);
        var request = writer.ToArray();

        var error = Assert.Throws<NetlinkException>(() => socket.Request(request));

        Assert.Equal(Errno.EINVAL, error.Errno);
        Assert.Null(error.Syscall);
        Assert.Equal("Invalid prefix for given prefix length", error.KernelMessage);
        Assert.Equal("Invalid argument (kernel: Invalid prefix for given prefix length)", error.Message);
        Assert.Equal("EINVAL (22); kernel: Invalid prefix for given prefix length", error.Details);
    }

    [Fact]
    public void A_dump_too_big_for_one_datagram_arrives_complete()
    {
        var script = Path.GetTempFileName();
        try
        {
            var lines = new List<string> { "add table inet t", "add set inet t s { type ipv4_addr; }" };
            lines.AddRange(Enumerable.Range(0, 2000).Select(i => $"add element inet t s {{ 10.7.{i / 250}.{(i % 250) + 1} }}"));
            File.WriteAllLines(script, lines);
            _first.Nft("-f", script);
        }
        finally
        {
            File.Delete(script);
        }

        using var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, _first.Path);
        var writer = new NetlinkWriter();
        var message = NftMessage.Begin(ref writer, NftMessageType.GetSetElem, NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_DUMP, socket.NextSequence(), NfNetlink.FamilyInet);
        writer.WriteString(1, "t");
        writer.WriteString(2, "s");
        writer.EndMessage(message);
        var keys = new HashSet<uint>();
        var parts = 0;
        var consistent = socket.Dump(writer.ToArray(), (in NetlinkMessage reply) =>
        {
            parts++;
            var attributes = reply.Attributes(4);
            Assert.True(attributes.TryFind(3, out var list));
            var elements = list.GetNested();
            while (elements.TryRead(out var element))
            {
                Assert.True(element.GetNested().TryFind(1, out var key));
                Assert.True(key.GetNested().TryFind(1, out var value));
                keys.Add(BinaryPrimitives.ReadUInt32BigEndian(value.Value));
            }
        });

        Assert.True(consistent);
        Assert.True(parts > 1, $"expected a multi-part dump, got {parts} part(s)");
        Assert.Equal(2000, keys.Count);
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
        GC.SuppressFinalize(this);
    }

    private static bool TableExists(ScratchNetns netns)
    {
        using var socket = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, netns.Path);
        return new NftClient(socket, FwmarkRuleset.Table).TableExists();
    }
}
