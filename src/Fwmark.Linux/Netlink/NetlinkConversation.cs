using System.Runtime.InteropServices;

namespace Fwmark.Linux.Netlink;

/// <summary>
/// The netlink protocol over an <see cref="INetlinkTransport"/>: sequence numbers, a request and its
/// ACK, a dump to NLMSG_DONE (repeated while the kernel flags it inconsistent), a batch and the answer
/// to each of its messages. Replies carrying an older sequence number (late answers to something
/// earlier on the socket) are skipped. Kernel errors are thrown as <see cref="NetlinkException"/>.
/// Protocol-agnostic: nf_tables and rtnetlink clients both speak through it.
/// </summary>
public sealed class NetlinkConversation : IDisposable
{
    /// <summary>A dump interrupted this many times in a row is reported instead of retried again.</summary>
    public const int MaxDumpAttempts = 5;

    private uint _sequence;

    /// <param name="transport">Owned: disposed with the conversation.</param>
    /// <param name="firstSequence">Where sequence numbers start; by default a per-process value, so a stale
    /// reply from an earlier socket is easy to spot in traces.</param>
    public NetlinkConversation(INetlinkTransport transport, uint? firstSequence = null)
    {
        Transport = transport;
        _sequence = firstSequence ?? (uint)Environment.TickCount;
    }

    public INetlinkTransport Transport { get; }

    /// <summary>
    /// Opens a <see cref="NetlinkSocket"/> for <paramref name="protocol"/> (inside
    /// <paramref name="netnsPath"/> when given) and talks over it.
    /// </summary>
    public static NetlinkConversation Open(int protocol, string? netnsPath = null) => new(NetlinkSocket.Open(protocol, netnsPath));

    /// <summary>A fresh nlmsg_seq; replies carry it back.</summary>
    public uint NextSequence() => ++_sequence;

    public void Dispose() => Transport.Dispose();

    /// <summary>
    /// Sends a request that has NLM_F_ACK set and waits for its ACK. Reply messages carrying the
    /// request's sequence number (e.g. the object a GET asked for) go to <paramref name="onReply"/>.
    /// A kernel error is thrown as <see cref="NetlinkException"/>.
    /// </summary>
    public void Request(ReadOnlySpan<byte> request, NetlinkMessageHandler? onReply = null)
    {
        var (sequence, flags) = HeaderOf(request);
        if ((flags & NetlinkConstants.NLM_F_ACK) == 0)
        {
            throw new ArgumentException("a request must set NLM_F_ACK or its end cannot be detected", nameof(request));
        }

        Transport.Send(request);
        while (true)
        {
            ReceiveOrThrow(out var datagram);
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                {
                    continue; // a late answer to something earlier on this socket
                }

                if (message.IsError)
                {
                    var error = message.ReadError();
                    if (!error.IsAck)
                    {
                        throw new NetlinkException(error);
                    }

                    return;
                }

                onReply?.Invoke(message);
            }
        }
    }

    /// <summary>
    /// Sends a dump request (NLM_F_DUMP) and hands every reply message to
    /// <paramref name="onMessage"/> until NLMSG_DONE. Returns false when the kernel flagged the
    /// dump as interrupted by a concurrent change (NLM_F_DUMP_INTR): the caller should discard
    /// what it collected and dump again (<see cref="DumpConsistently"/> does).
    /// </summary>
    public bool Dump(ReadOnlySpan<byte> request, NetlinkMessageHandler onMessage)
    {
        var (sequence, _) = HeaderOf(request);
        Transport.Send(request);
        var consistent = true;
        while (true)
        {
            ReceiveOrThrow(out var datagram);
            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                {
                    continue;
                }

                if ((message.Flags & NetlinkConstants.NLM_F_DUMP_INTR) != 0)
                {
                    consistent = false;
                }

                if (message.IsDone || message.IsError)
                {
                    var status = message.ReadError();
                    if (!status.IsAck)
                    {
                        throw new NetlinkException(status);
                    }

                    if (message.IsDone)
                    {
                        return consistent;
                    }

                    continue;
                }

                onMessage(message);
            }
        }
    }

    /// <summary>
    /// Runs a dump and repeats it when the kernel flagged it as interrupted by a concurrent change
    /// (NLM_F_DUMP_INTR): a half-old, half-new listing could make DEL or GC miss an element. ENOENT
    /// (the table or set the dump is filtered by does not exist yet) is an empty listing.
    /// </summary>
    /// <param name="changing">What kept changing, for the error after <see cref="MaxDumpAttempts"/>: "the ruleset".</param>
    public List<T> DumpConsistently<T>(NetlinkRequestBuilder build, NetlinkReplyReader<T> read, string changing)
    {
        for (var attempt = 1; ; attempt++)
        {
            var writer = new NetlinkWriter(256);
            build(ref writer, NextSequence());
            var items = new List<T>();
            bool consistent;
            try
            {
                consistent = Dump(writer.WrittenSpan, (in NetlinkMessage message) => read(message, items));
            }
            catch (NetlinkException e) when (e.IsNotFound)
            {
                return [];
            }

            if (consistent)
            {
                return items;
            }

            if (attempt == MaxDumpAttempts)
            {
                throw new NetlinkException(Errno.EAGAIN, kernelMessage: $"{changing} kept changing during the dump");
            }
        }
    }

    /// <summary>
    /// Sends a batch and collects the answer (ACK or error) for each of
    /// <paramref name="sequences"/>. The kernel processes a batch inside sendmsg, so every answer
    /// is already queued when it returns; after the first error the remaining ones are read
    /// without blocking because a failed batch may leave some messages unanswered.
    /// </summary>
    public Dictionary<uint, NetlinkError> SendBatch(ReadOnlySpan<byte> batch, IReadOnlyCollection<uint> sequences)
    {
        // A capped ACK with TLVs takes well under 1 KiB of receive-queue truesize.
        Transport.EnsureReceiveBuffer(64 * 1024 + sequences.Count * 1024);
        var wanted = new HashSet<uint>(sequences);
        var answers = new Dictionary<uint, NetlinkError>();
        Transport.Send(batch);
        var failed = false;
        while (answers.Count < wanted.Count)
        {
            if (!failed)
            {
                ReceiveOrThrow(out var datagram);
                failed = Collect(datagram, wanted, answers);
            }
            else if (Transport.TryReceive(wait: false, out var datagram))
            {
                Collect(datagram, wanted, answers);
            }
            else
            {
                break;
            }
        }

        return answers;
    }

    private static bool Collect(ReadOnlySpan<byte> datagram, HashSet<uint> wanted, Dictionary<uint, NetlinkError> answers)
    {
        var failed = false;
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out var message))
        {
            if (!message.IsError)
            {
                continue;
            }

            var answer = message.ReadError();
            if (wanted.Contains(answer.Sequence))
            {
                answers[answer.Sequence] = answer;
            }
            else if (!answer.IsAck)
            {
                // An error for a message we did not ask about (e.g. the batch header itself).
                answers[answer.Sequence] = answer;
            }

            failed |= !answer.IsAck;
        }

        return failed;
    }

    private void ReceiveOrThrow(out ReadOnlySpan<byte> datagram)
    {
        if (!Transport.TryReceive(wait: true, out datagram))
        {
            throw new NetlinkException(Errno.ETIMEDOUT, "recvmsg");
        }
    }

    private static (uint Sequence, ushort Flags) HeaderOf(ReadOnlySpan<byte> request)
    {
        if (request.Length < NetlinkConstants.MessageHeaderSize)
        {
            throw new ArgumentException("request is shorter than a netlink header", nameof(request));
        }

        return (MemoryMarshal.Read<uint>(request[8..]), MemoryMarshal.Read<ushort>(request[6..]));
    }
}
