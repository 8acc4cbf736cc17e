using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// DELCHAIN: the kernel also deletes the chain's own rules in the same transaction; it refuses
/// (EBUSY) while a rule elsewhere still jumps to the chain, so those rules must go first.
/// </summary>
internal sealed record DeleteChainOp(string Chain) : NftOperation
{
    public override string Description => $"delete chain {Chain}";

    public override string Render(NftTable table) => $"delete chain {table} {Chain}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
    {
        var message = NftMessage.Begin(ref writer, NftMessageType.DelChain, Ack, sequence, table.Family);
        writer.WriteString(ChainAttr.Table, table.Name);
        writer.WriteString(ChainAttr.Name, Chain);
        writer.EndMessage(message);
    }
}

/// <summary>DELSET, elements included; refused (EBUSY) while a lookup rule is bound to the set.</summary>
internal sealed record DeleteSetOp(string Set) : NftOperation
{
    public override string Description => $"delete set {Set}";

    public override string Render(NftTable table) => $"delete set {table} {Set}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
    {
        var message = NftMessage.Begin(ref writer, NftMessageType.DelSet, Ack, sequence, table.Family);
        writer.WriteString(SetAttr.Table, table.Name);
        writer.WriteString(SetAttr.Name, Set);
        writer.EndMessage(message);
    }
}
