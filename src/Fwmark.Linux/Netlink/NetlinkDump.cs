namespace Fwmark.Linux.Netlink;

/// <summary>Writes one dump request with the given sequence number.</summary>
public delegate void NetlinkRequestBuilder(ref NetlinkWriter writer, uint sequence);

/// <summary>Turns one reply message of a dump into items (the message is valid only during the call).</summary>
public delegate void NetlinkReplyReader<T>(in NetlinkMessage message, List<T> into);

/// <summary>Dumps that come back whole, for nf_tables and rtnetlink alike.</summary>
public static class NetlinkDump
{
    /// <summary>A dump interrupted this many times in a row is reported instead of retried again.</summary>
    public const int MaxAttempts = 5;

    /// <summary>
    /// Runs a dump and repeats it when the kernel flagged it as interrupted by a concurrent change
    /// (NLM_F_DUMP_INTR): a half-old, half-new listing could make DEL or GC miss an element. ENOENT
    /// (the table or set the dump is filtered by does not exist yet) is an empty listing.
    /// </summary>
    /// <param name="changing">What kept changing, for the error after <see cref="MaxAttempts"/>: "the ruleset".</param>
    public static List<T> Consistently<T>(NetlinkSocket socket, NetlinkRequestBuilder build, NetlinkReplyReader<T> read, string changing)
    {
        for (var attempt = 1; ; attempt++)
        {
            var writer = new NetlinkWriter(256);
            build(ref writer, socket.NextSequence());
            var items = new List<T>();
            bool consistent;
            try
            {
                consistent = socket.Dump(writer.WrittenSpan, (in NetlinkMessage message) => read(message, items));
            }
            catch (NetlinkException e) when (e.IsNotFound)
            {
                return [];
            }

            if (consistent)
            {
                return items;
            }

            if (attempt == MaxAttempts)
            {
                throw new NetlinkException(Errno.EAGAIN, kernelMessage: $"{changing} kept changing during the dump");
            }
        }
    }
}
