using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Tests.Netlink;

/// <summary>
/// The conversation's rules against a scripted kernel: what no real kernel produces on demand
/// (interrupted dumps, stale replies, a batch answered in part, truncated datagrams, MISS_TYPE).
/// </summary>
public class NetlinkConversationTests
{
    private const ushort Ack = NetlinkConstants.NLM_F_ACK;
    private const ushort Multi = NetlinkConstants.NLM_F_MULTI;
    private const ushort Interrupted = NetlinkConstants.NLM_F_MULTI | NetlinkConstants.NLM_F_DUMP_INTR;

    [Fact]
    public void A_dump_interrupted_by_a_change_is_repeated_and_only_the_consistent_listing_counts()
    {
        var transport = new ScriptedTransport((request, n) =>
        {
            var seq = ScriptedTransport.SequenceOf(request);
            return n == 1
                ? [Kernel.Join(Kernel.Data(seq, "half-old", Interrupted), Kernel.Done(seq, Interrupted))]
                : [Kernel.Data(seq, "whole"), Kernel.Done(seq)];
        });

        var items = DumpStrings(new NetlinkConversation(transport, firstSequence: 100));

        Assert.Equal(["whole"], items);
        Assert.Equal(2, transport.Sent.Count);
    }

    [Fact]
    public void A_dump_that_keeps_being_interrupted_is_given_up_after_the_limit()
    {
        var transport = new ScriptedTransport((request, _) =>
        {
            var seq = ScriptedTransport.SequenceOf(request);
            return [Kernel.Join(Kernel.Data(seq, "moving", Interrupted), Kernel.Done(seq, Interrupted))];
        });

        var e = Assert.Throws<NetlinkException>(() => DumpStrings(new NetlinkConversation(transport)));

        Assert.Equal(Errno.EAGAIN, e.Errno);
        Assert.Equal("the ruleset kept changing during the dump", e.KernelMessage);
        Assert.Equal(NetlinkConversation.MaxDumpAttempts, transport.Sent.Count);
    }

    [Fact]
    public void Replies_carrying_an_older_sequence_number_are_skipped()
    {
        var transport = new ScriptedTransport((request, n) =>
        {
            var seq = ScriptedTransport.SequenceOf(request);
            // A late error and a late reply to an earlier request on the socket come first.
            return n == 1
                ? [Kernel.Join(Kernel.Error(seq - 1, Errno.EEXIST), Kernel.Data(seq - 1, "stale", 0)), Kernel.Join(Kernel.Data(seq, "answer", 0), Kernel.Error(seq))]
                : [Kernel.Join(Kernel.Data(seq - 1, "stale"), Kernel.Done(seq - 1, errno: Errno.ENOENT), Kernel.Data(seq, "listed")), Kernel.Done(seq)];
        });
        using var conversation = new NetlinkConversation(transport, firstSequence: 7);
        var replies = new List<string>();

        conversation.Request(Kernel.Request(conversation.NextSequence(), Ack), (in NetlinkMessage m) => replies.Add(Text(m)));
        var listed = DumpStrings(conversation);

        Assert.Equal(["answer"], replies);
        Assert.Equal(["listed"], listed);
    }

    [Fact]
    public void After_the_first_batch_error_the_remaining_answers_are_drained_without_waiting()
    {
        // The batch's first message fails; the kernel answers the second and never the third.
        var transport = new ScriptedTransport((_, _) => [Kernel.Error(11, Errno.ENOENT, "no such set"), Kernel.Error(12)]);
        using var conversation = new NetlinkConversation(transport);

        var answers = conversation.SendBatch(Kernel.Request(10, 0), [11, 12, 13]);

        Assert.Equal([11u, 12u], answers.Keys.Order());
        Assert.Equal((Errno.ENOENT, "no such set"), (answers[11].Errno, answers[11].Message));
        Assert.True(answers[12].IsAck);
        Assert.Equal([true, false, false], transport.Receives); // waited for the first answer only
    }

    [Fact]
    public void A_batch_that_succeeds_waits_for_every_answer()
    {
        var transport = new ScriptedTransport((_, _) => [Kernel.Error(11), Kernel.Join(Kernel.Error(12), Kernel.Error(13))]);
        using var conversation = new NetlinkConversation(transport);

        var answers = conversation.SendBatch(Kernel.Request(10, 0), [11, 12, 13]);

        Assert.All(answers.Values, a => Assert.True(a.IsAck));
        Assert.Equal(3, answers.Count);
        Assert.Equal([true, true], transport.Receives);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Enoent_from_a_dump_reads_as_an_empty_listing(bool inDone)
    {
        var transport = new ScriptedTransport((request, _) =>
        {
            var seq = ScriptedTransport.SequenceOf(request);
            return [inDone ? Kernel.Done(seq, errno: Errno.ENOENT) : Kernel.Error(seq, Errno.ENOENT)];
        });

        Assert.Empty(DumpStrings(new NetlinkConversation(transport)));
        Assert.Single(transport.Sent);
    }

    [Fact]
    public void Other_dump_errors_are_thrown()
    {
        var transport = new ScriptedTransport((request, _) => [Kernel.Error(ScriptedTransport.SequenceOf(request), Errno.EPERM)]);

        Assert.Equal(Errno.EPERM, Assert.Throws<NetlinkException>(() => DumpStrings(new NetlinkConversation(transport))).Errno);
    }

    [Fact]
    public void A_truncated_message_is_a_format_error()
    {
        var transport = new ScriptedTransport((request, _) =>
        {
            var reply = Kernel.Data(ScriptedTransport.SequenceOf(request), "a reply that the datagram cuts short", 0);
            return [reply[..24]];
        });
        using var conversation = new NetlinkConversation(transport);

        var e = Assert.Throws<NetlinkFormatException>(() => conversation.Request(Kernel.Request(conversation.NextSequence(), Ack)));

        Assert.Contains("does not fit the 24 bytes left", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ext_ack_naming_a_missing_attribute_reaches_the_error_details()
    {
        var transport = new ScriptedTransport((request, _) =>
            [Kernel.Error(ScriptedTransport.SequenceOf(request), Errno.EINVAL, "Missing required attribute", missingType: 3)]);
        using var conversation = new NetlinkConversation(transport);

        var e = Assert.Throws<NetlinkException>(() => conversation.Request(Kernel.Request(conversation.NextSequence(), Ack)));

        Assert.Equal(3u, e.MissingAttributeType);
        Assert.Equal("EINVAL (22); kernel: Missing required attribute; kernel missed required attribute type 3", e.Details);
    }

    [Fact]
    public void A_reply_that_never_comes_is_a_timeout()
    {
        using var conversation = new NetlinkConversation(new ScriptedTransport((_, _) => []));

        Assert.Equal(Errno.ETIMEDOUT, Assert.Throws<NetlinkException>(() => conversation.Request(Kernel.Request(conversation.NextSequence(), Ack))).Errno);
    }

    private static List<string> DumpStrings(NetlinkConversation conversation) => conversation.DumpConsistently(
        (ref NetlinkWriter writer, uint sequence) =>
        {
            var message = writer.BeginMessage(Kernel.DataType, NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_DUMP, sequence);
            writer.EndMessage(message);
        },
        (in NetlinkMessage message, List<string> into) => into.Add(Text(message)),
        "the ruleset");

    private static string Text(in NetlinkMessage message)
    {
        var attributes = message.Attributes(0);
        return attributes.TryFind(1, out var text) ? text.GetString() : throw new InvalidOperationException("no text attribute");
    }
}
