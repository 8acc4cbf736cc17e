using System.Text;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// One expression reduced to what decides what it does: its name and every operand inside
/// NFTA_EXPR_DATA, in a canonical text form ("meta(dreg=00000001 key=00000003)"). The same
/// decoder reads the kernel's dump and our own encoding of an <see cref="NftExpression"/>, so two
/// shapes are equal exactly when the kernel holds the expression fwmark would write: a mark
/// value, a register, a `ct direction` operand or a verdict that differs makes them differ.
///
/// Canonical form, and why each rule exists:
/// - attributes are sorted by type (the kernel dumps in its own order, not ours);
/// - nests are recognised by position, never by NLA_F_NESTED: we set that flag, the kernel's
///   nf_tables dumps do not (nla_nest_start_noflag), so the flag bits are masked off;
/// - the counter's operands (packets, bytes) change with traffic and are left out;
/// - an attribute the kernel always reports at its default (lookup flags 0) is dropped when it
///   holds that default, so an encoding that leaves it out compares equal. A non-zero value
///   (NFT_LOOKUP_F_INV: "ip saddr != @set") stays and makes the shapes differ.
/// </summary>
internal sealed record NftExpressionShape(string Name, string Operands)
{
    public override string ToString() => $"{Name}({Operands})";

    /// <summary>Decodes one NFTA_LIST_ELEM of a rule's expression list.</summary>
    public static NftExpressionShape Read(NetlinkAttributeReader element)
    {
        string? name = null;
        var data = ReadOnlySpan<byte>.Empty;
        while (element.TryRead(out var attribute))
        {
            if (attribute.Type == ExprAttr.Name)
            {
                name = attribute.GetString();
            }
            else if (attribute.Type == ExprAttr.Data)
            {
                data = attribute.Value;
            }
        }

        name ??= "?";
        return new NftExpressionShape(name, name == "counter" ? "" : Canonical(name, data));
    }

    /// <summary>The shape of an expression as fwmark encodes it (what the kernel would then report).</summary>
    public static NftExpressionShape Of(NftExpression expression)
    {
        var writer = new NetlinkWriter(256);
        expression.Write(ref writer);
        var outer = new NetlinkAttributeReader(writer.WrittenSpan);
        if (!outer.TryRead(out var element))
        {
            throw new InvalidOperationException($"expression {expression.Name} encoded to nothing");
        }

        return Read(element.GetNested());
    }

    private static string Canonical(string name, ReadOnlySpan<byte> data)
    {
        var operands = new SortedDictionary<ushort, string>();
        var reader = new NetlinkAttributeReader(data);
        while (reader.TryRead(out var attribute))
        {
            if (IsDefault(name, attribute))
            {
                continue;
            }

            operands[attribute.Type] = IsDataNest(name, attribute.Type) ? DataNest(attribute.Value)
                : IsString(name, attribute.Type) ? Quote(attribute.GetString())
                : Convert.ToHexStringLower(attribute.Value);
        }

        return string.Join(' ', operands.Select(o => $"{OperandName(name, o.Key)}={o.Value}"));
    }

    /// <summary>struct nft_data: NFTA_DATA_VALUE (raw register bytes) or NFTA_DATA_VERDICT (code, chain).</summary>
    private static string DataNest(ReadOnlySpan<byte> value)
    {
        var text = new StringBuilder("{");
        var reader = new NetlinkAttributeReader(value);
        while (reader.TryRead(out var attribute))
        {
            if (text.Length > 1)
            {
                text.Append(' ');
            }

            if (attribute.Type == DataAttr.Verdict)
            {
                text.Append("verdict={");
                var verdict = attribute.GetNested();
                var parts = new SortedDictionary<ushort, string>();
                while (verdict.TryRead(out var part))
                {
                    parts[part.Type] = part.Type == VerdictAttr.Chain ? Quote(part.GetString()) : Convert.ToHexStringLower(part.Value);
                }

                text.Append(string.Join(' ', parts.Select(p => $"{(p.Key == VerdictAttr.Code ? "code" : p.Key == VerdictAttr.Chain ? "chain" : $"attr{p.Key}")}={p.Value}")));
                text.Append('}');
            }
            else
            {
                text.Append(attribute.Type == DataAttr.Value ? "value=" : $"attr{attribute.Type}=").Append(Convert.ToHexStringLower(attribute.Value));
            }
        }

        return text.Append('}').ToString();
    }

    private static bool IsDataNest(string name, ushort type) => (name, type) switch
    {
        ("cmp", CmpAttr.Data) => true,
        ("bitwise", BitwiseAttr.Mask or BitwiseAttr.Xor or BitwiseAttr.Data) => true,
        ("immediate", ImmediateAttr.Data) => true,
        _ => false,
    };

    private static bool IsString(string name, ushort type) => name == "lookup" && type == LookupAttr.Set;

    private static bool IsDefault(string name, NetlinkAttribute attribute) =>
        name == "lookup" && attribute.Type == LookupAttr.Flags && attribute.Value.SequenceEqual(new byte[4]);

    /// <summary>Operand names for messages (nf_tables.h spelling, lower case); "attrN" for the rest.</summary>
    private static string OperandName(string name, ushort type) => (name, type) switch
    {
        ("meta", MetaAttr.Dreg) or ("ct", CtAttr.Dreg) or ("payload", PayloadAttr.Dreg) or ("bitwise", BitwiseAttr.Dreg)
            or ("immediate", ImmediateAttr.Dreg) or ("lookup", LookupAttr.Dreg) => "dreg",
        ("meta", MetaAttr.Sreg) or ("ct", CtAttr.Sreg) or ("cmp", CmpAttr.Sreg) or ("bitwise", BitwiseAttr.Sreg) or ("lookup", LookupAttr.Sreg) => "sreg",
        ("meta", MetaAttr.Key) or ("ct", CtAttr.Key) => "key",
        ("ct", CtAttr.Direction) => "direction",
        ("cmp", CmpAttr.Op) or ("bitwise", BitwiseAttr.Op) => "op",
        ("cmp", CmpAttr.Data) or ("immediate", ImmediateAttr.Data) or ("bitwise", BitwiseAttr.Data) => "data",
        ("payload", PayloadAttr.Base) => "base",
        ("payload", PayloadAttr.Offset) => "offset",
        ("payload", PayloadAttr.Len) or ("bitwise", BitwiseAttr.Len) => "len",
        ("bitwise", BitwiseAttr.Mask) => "mask",
        ("bitwise", BitwiseAttr.Xor) => "xor",
        ("lookup", LookupAttr.Set) => "set",
        ("lookup", LookupAttr.Flags) => "flags",
        _ => $"attr{type}",
    };

    private static string Quote(string text) => "\"" + text + "\"";
}
