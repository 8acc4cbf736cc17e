using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// One queued change of a transaction. It knows how to encode itself as one nf_tables message,
/// how to say what it does in an error ("add element 10.88.0.5 to set pods4-mark-00000010-00000010") and how to read as
/// a line of nft script (for logs, dry runs and feeding the real nft as an oracle).
/// </summary>
internal abstract record NftOperation
{
    /// <summary>Verb phrase for "failed to &lt;description&gt;: &lt;cause&gt;".</summary>
    public abstract string Description { get; }

    /// <summary>The same change as an nft command.</summary>
    public abstract string Render(NftTable table);

    public abstract void Encode(ref NetlinkWriter writer, NftTable table, uint sequence);

    /// <summary>
    /// False only for the element operations: a transaction of nothing else leaves tables, chains, sets and rules
    /// as they were, so a structure verified before it is still exact after it (Dataplane/StructureClaim.cs).
    /// </summary>
    public virtual bool ChangesStructure => true;

    protected const ushort Ack = NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_ACK;

    protected static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}

/// <summary>
/// NEWTABLE without NLM_F_EXCL: creates the table or leaves the existing one as it is.
/// </summary>
internal sealed record AddTableOp : NftOperation
{
    public override string Description => "add table";

    public override string Render(NftTable table) => $"add table {table}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
    {
        var message = NftMessage.Begin(ref writer, NftMessageType.NewTable, Ack | NetlinkConstants.NLM_F_CREATE, sequence, table.Family);
        writer.WriteString(TableAttr.Name, table.Name);
        writer.WriteBigEndianU32(TableAttr.Flags, 0);
        writer.EndMessage(message);
    }
}

/// <summary>NEWCHAIN without NLM_F_EXCL: idempotent as long as the hook spec is unchanged.</summary>
internal sealed record AddChainOp(NftChain Chain) : NftOperation
{
    public override string Description => $"add chain {Chain.Name}";

    public override string Render(NftTable table) => Chain.Hook is { } hook
        ? $"add chain {table} {Chain.Name} {{ type {hook.Type} hook {hook.HookName} priority {hook.Priority}; policy {hook.PolicyName}; }}"
        : $"add chain {table} {Chain.Name}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
    {
        var message = NftMessage.Begin(ref writer, NftMessageType.NewChain, Ack | NetlinkConstants.NLM_F_CREATE, sequence, table.Family);
        writer.WriteString(ChainAttr.Table, table.Name);
        writer.WriteString(ChainAttr.Name, Chain.Name);
        if (Chain.Hook is { } hook)
        {
            writer.WriteString(ChainAttr.Type, hook.Type);
            writer.WriteBigEndianU32(ChainAttr.Policy, hook.Policy);
            var nest = writer.BeginNested(ChainAttr.Hook);
            writer.WriteBigEndianU32(HookAttr.Num, hook.Number);
            writer.WriteBigEndianU32(HookAttr.Priority, unchecked((uint)hook.Priority));
            writer.EndNested(nest);
        }

        writer.EndMessage(message);
    }
}

/// <summary>
/// NEWSET (a plain address set: no NFT_SET_MAP, no data) without NLM_F_EXCL: idempotent when the
/// existing set has the same key type and the same expressions; the kernel answers EEXIST to a set
/// whose counter template differs (measured: with and without `counter`, both ways), which is why drift
/// detection compares the expressions and a set of the other kind is deleted and made again.
/// </summary>
internal sealed record AddSetOp(NftAddressSet Set) : NftOperation
{
    public override string Description => $"add set {Set.Name}";

    public override string Render(NftTable table) => $"add set {table} {Set.Name} {{ type {Set.Key.Name};{(Set.Counter ? " counter;" : "")} }}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
    {
        var message = NftMessage.Begin(ref writer, NftMessageType.NewSet, Ack | NetlinkConstants.NLM_F_CREATE, sequence, table.Family);
        writer.WriteString(SetAttr.Table, table.Name);
        writer.WriteString(SetAttr.Name, Set.Name);
        writer.WriteBigEndianU32(SetAttr.Flags, 0);
        writer.WriteBigEndianU32(SetAttr.KeyType, Set.Key.TypeId);
        writer.WriteBigEndianU32(SetAttr.KeyLen, Set.Key.Length);
        // NFTA_SET_ID is mandatory on NEWSET (it lets later messages of the same batch refer to a
        // set by id); it only has to be unique within the batch, which the sequence number is.
        writer.WriteBigEndianU32(SetAttr.Id, sequence);
        if (Set.Key == NftKeyType.IfName)
        {
            // The kernel does not care, but nft prints a string key only when the set's userdata says it is
            // in host byte order (TLV NFTNL_UDATA_SET_KEYBYTEORDER = BYTEORDER_HOST_ENDIAN), as nft's own sets do.
            writer.WriteAttribute(SetAttr.UserData, [0, 4, 1, 0, 0, 0]);
        }

        if (Set.Counter)
        {
            // As nft 1.0.6 sends `{ counter; }`: one NFTA_SET_EXPR holding a counter with empty data.
            var expression = writer.BeginNested(SetAttr.Expr);
            writer.WriteString(ExprAttr.Name, "counter");
            var data = writer.BeginNested(ExprAttr.Data);
            writer.EndNested(data);
            writer.EndNested(expression);
        }

        writer.EndMessage(message);
    }
}

/// <summary>DELRULE with a chain and no handle: removes every rule of the chain.</summary>
internal sealed record FlushChainOp(string Chain) : NftOperation
{
    public override string Description => $"flush chain {Chain}";

    public override string Render(NftTable table) => $"flush chain {table} {Chain}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
    {
        var message = NftMessage.Begin(ref writer, NftMessageType.DelRule, Ack, sequence, table.Family);
        writer.WriteString(RuleAttr.Table, table.Name);
        writer.WriteString(RuleAttr.Chain, Chain);
        writer.EndMessage(message);
    }
}

/// <summary>NEWRULE with NLM_F_APPEND: adds at the end of the chain (so it is never idempotent by itself).</summary>
internal sealed record AddRuleOp(NftRule Rule) : NftOperation
{
    public override string Description => $"add rule \"{Rule.Text}\" to chain {Rule.Chain}";

    public override string Render(NftTable table) => $"add rule {table} {Rule.Chain} {Rule.Text} comment {Quote(Rule.Comment)}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence)
    {
        var message = NftMessage.Begin(
            ref writer,
            NftMessageType.NewRule,
            Ack | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_APPEND,
            sequence,
            table.Family);
        writer.WriteString(RuleAttr.Table, table.Name);
        writer.WriteString(RuleAttr.Chain, Rule.Chain);
        var list = writer.BeginNested(RuleAttr.Expressions);
        foreach (var expression in Rule.Expressions)
        {
            expression.Write(ref writer);
        }

        writer.EndNested(list);
        writer.WriteAttribute(RuleAttr.UserData, NftUserData.Comment(Rule.Comment));
        writer.EndMessage(message);
    }
}

/// <summary>
/// NEWSETELEM with NLM_F_EXCL: the caller has just looked the key up under the lock, so an
/// existing element means someone bypassed the lock, which must not be papered over.
/// </summary>
internal sealed record AddElementOp(NftElement Element) : NftOperation
{
    public override bool ChangesStructure => false;

    public override string Description => $"add element {Element.Key} to set {Element.Set}";

    public override string Render(NftTable table)
    {
        var comment = Element.Comment is null ? "" : $" comment {Quote(Element.Comment)}";
        return $"add element {table} {Element.Set} {{ {Element.Key}{comment} }}";
    }

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence) =>
        NftElementCodec.Write(ref writer, NftMessageType.NewSetElem, Ack | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_EXCL, sequence, table, Element);
}

/// <summary>DELSETELEM by key.</summary>
internal sealed record DeleteElementOp(NftElement Element) : NftOperation
{
    public override bool ChangesStructure => false;

    public override string Description => $"delete element {Element.Key} from set {Element.Set}";

    public override string Render(NftTable table) => $"delete element {table} {Element.Set} {{ {Element.Key} }}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence) =>
        NftElementCodec.Write(ref writer, NftMessageType.DelSetElem, Ack, sequence, table, Element with { Comment = null });
}
