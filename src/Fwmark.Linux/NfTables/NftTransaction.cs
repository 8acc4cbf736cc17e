using System.Text;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// Queues typed changes to one table and commits them as one nfnetlink batch, i.e. one nf_tables
/// transaction: the kernel applies all of them or none. Each message asks for an ACK, so success
/// is confirmed per message and a failure names the operation that caused it.
/// </summary>
internal sealed class NftTransaction(NftTable table)
{
    private readonly List<NftOperation> _operations = [];

    public NftTable Table { get; } = table;

    public IReadOnlyList<NftOperation> Operations => _operations;

    public bool IsEmpty => _operations.Count == 0;

    /// <summary>
    /// Set by the planner when the structure this plan relies on is exact at the generation it read: found with no
    /// drift, or taken from a claim (Dataplane/StructureClaim.cs). Null when the plan repaired or did not look.
    /// </summary>
    public Dataplane.VerifiedStructure? Verified { get; set; }

    /// <summary>True when nothing queued touches tables, chains, sets or rules (elements only, or nothing).</summary>
    public bool KeepsStructure => _operations.TrueForAll(op => !op.ChangesStructure);

    public NftTransaction Add(NftOperation operation)
    {
        Validate(operation);
        _operations.Add(operation);
        return this;
    }

    /// <summary>The whole transaction as an nft script (valid input for `nft -f`).</summary>
    public string Render()
    {
        var text = new StringBuilder();
        foreach (var operation in _operations)
        {
            text.Append(operation.Render(Table)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// The batch bytes; sequence numbers are taken from <paramref name="nextSequence"/>. With
    /// <paramref name="generation"/> the batch only applies while the ruleset is at that generation.
    /// </summary>
    public byte[] Encode(Func<uint> nextSequence, out uint[] sequences, uint? generation = null)
    {
        var writer = new NetlinkWriter(1024 + _operations.Count * 256);
        NftMessage.WriteBatchDelimiter(ref writer, NfNetlink.BatchBegin, nextSequence(), generation);
        sequences = new uint[_operations.Count];
        for (var i = 0; i < _operations.Count; i++)
        {
            sequences[i] = nextSequence();
            _operations[i].Encode(ref writer, Table, sequences[i]);
        }

        NftMessage.WriteBatchDelimiter(ref writer, NfNetlink.BatchEnd, nextSequence());
        return writer.ToArray();
    }

    /// <summary>
    /// Sends the batch and checks every answer. Throws <see cref="NftException"/> naming the first
    /// operation the kernel rejected; the kernel then has applied nothing. With
    /// <paramref name="generation"/> (read before the reads the plan was made from) a ruleset that
    /// changed since throws <see cref="NftGenerationChangedException"/>: re-read and plan again.
    /// </summary>
    public void Commit(NetlinkConversation socket, uint? generation = null)
    {
        if (IsEmpty)
        {
            return;
        }

        var batch = Encode(socket.NextSequence, out var sequences, generation);
        Dictionary<uint, NetlinkError> answers;
        try
        {
            answers = socket.SendBatch(batch, sequences);
        }
        catch (NetlinkException e)
        {
            throw new NftException($"commit nftables transaction on table {Table}", e, script: Render());
        }

        for (var i = 0; i < sequences.Length; i++)
        {
            if (answers.TryGetValue(sequences[i], out var answer) && !answer.IsAck)
            {
                var operation = _operations[i];
                throw new NftException(operation.Description, new NetlinkException(answer), operation, Render());
            }
        }

        // An error that matches none of our messages (e.g. the batch header was refused).
        foreach (var answer in answers.Values)
        {
            if (generation is not null && answer.Errno == Errno.ERESTART)
            {
                throw new NftGenerationChangedException(Table, generation.Value);
            }

            if (!answer.IsAck)
            {
                throw new NftException($"commit nftables transaction on table {Table}", new NetlinkException(answer), script: Render());
            }
        }

        var missing = sequences.Count(s => !answers.ContainsKey(s));
        if (missing > 0)
        {
            throw new NftException(
                $"commit nftables transaction on table {Table}",
                new NetlinkException(Errno.EPROTO, kernelMessage: $"{missing} of {sequences.Length} messages were not acknowledged"),
                script: Render());
        }
    }

    private static void Validate(NftOperation operation)
    {
        switch (operation)
        {
            case AddElementOp { Element: var e } when e.Comment is not null:
                _ = NftUserData.Comment(e.Comment); // throws when too long
                break;
            case AddRuleOp { Rule: var r }:
                _ = NftUserData.Comment(r.Comment);
                break;
        }
    }
}
