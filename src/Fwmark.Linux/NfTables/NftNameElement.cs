using System.Text;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// An element of an ifname set (<see cref="NftKeyType.IfName"/>): an interface name, with the owner in
/// its comment. Kept apart from <see cref="NftElement"/> because a 16-byte key read back from the kernel
/// could be either an IPv6 address or a name; each set has one key type, so each reader knows which.
/// </summary>
internal sealed record NftNameElement(string Set, string Name, string? Comment = null)
{
    /// <summary>IFNAMSIZ: a name of at most 15 bytes plus its NUL.</summary>
    public const int KeyLength = 16;

    /// <summary>The key as the kernel stores it: the name's bytes, NUL-padded to <see cref="KeyLength"/>.</summary>
    public byte[] KeyBytes => Encode(Name);

    public static byte[] Encode(string name)
    {
        var bytes = new byte[KeyLength];
        var count = Encoding.ASCII.GetBytes(name, bytes);
        return count < KeyLength && name.Length > 0 && name.All(char.IsAscii)
            ? bytes
            : throw new ArgumentException($"interface name \"{name}\" is not 1..15 ASCII characters", nameof(name));
    }

    public static string Decode(ReadOnlySpan<byte> key)
    {
        var end = key.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? key : key[..end]);
    }
}

/// <summary>An ifname-set element as read back from the kernel.</summary>
internal sealed record NftNameElementInfo(string Name, string? Comment)
{
    /// <summary>The element's own counter, when its set has a counter template; null otherwise.</summary>
    public NftCounter? Counter { get; init; }
}

/// <summary>NEWSETELEM with NLM_F_EXCL for a name (see <see cref="AddElementOp"/> for why EXCL).</summary>
internal sealed record AddNameElementOp(NftNameElement Element) : NftOperation
{
    public override bool ChangesStructure => false;

    public override string Description => $"add element \"{Element.Name}\" to set {Element.Set}";

    public override string Render(NftTable table)
    {
        var comment = Element.Comment is null ? "" : $" comment {Quote(Element.Comment)}";
        return $"add element {table} {Element.Set} {{ \"{Element.Name}\"{comment} }}";
    }

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence) =>
        NftNameElementCodec.Write(ref writer, NftMessageType.NewSetElem, Ack | NetlinkConstants.NLM_F_CREATE | NetlinkConstants.NLM_F_EXCL, sequence, table, Element);
}

/// <summary>DELSETELEM of a name.</summary>
internal sealed record DeleteNameElementOp(NftNameElement Element) : NftOperation
{
    public override bool ChangesStructure => false;

    public override string Description => $"delete element \"{Element.Name}\" from set {Element.Set}";

    public override string Render(NftTable table) => $"delete element {table} {Element.Set} {{ \"{Element.Name}\" }}";

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence) =>
        NftNameElementCodec.Write(ref writer, NftMessageType.DelSetElem, Ack, sequence, table, Element with { Comment = null });
}

/// <summary>
/// Runs <see cref="Inner"/> on <see cref="Table"/> instead of the transaction's table: nf_tables takes the
/// table (and family) per message, so one batch — one atomic transaction — can change the inet and the
/// bridge table together.
/// </summary>
internal sealed record OnTableOp(NftTable Table, NftOperation Inner) : NftOperation
{
    public override bool ChangesStructure => Inner.ChangesStructure;

    public override string Description => $"{Inner.Description} in table {Table}";

    public override string Render(NftTable table) => Inner.Render(Table);

    public override void Encode(ref NetlinkWriter writer, NftTable table, uint sequence) => Inner.Encode(ref writer, Table, sequence);
}
