using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>
/// Reads the expressions a set (NFTA_SET_EXPR / NFTA_SET_EXPRESSIONS) or an element
/// (NFTA_SET_ELEM_EXPR / NFTA_SET_ELEM_EXPRESSIONS) carries. The kernel reports one expression in the
/// single attribute and two or more as a list of NFTA_LIST_ELEM, so both forms are read.
/// </summary>
internal static class NftSetExpressions
{
    /// <summary>Every expression in <paramref name="attribute"/> (single or list form): its name and, for a counter, its values.</summary>
    public static List<(string Name, NftCounter? Counter)> Read(NetlinkAttribute attribute, bool isList)
    {
        var all = new List<(string, NftCounter?)>(1);
        if (!isList)
        {
            all.Add(ReadOne(attribute.GetNested()));
            return all;
        }

        var list = attribute.GetNested();
        while (list.TryRead(out var item))
        {
            if (item.Type == ListAttr.Elem)
            {
                all.Add(ReadOne(item.GetNested()));
            }
        }

        return all;
    }

    private static (string Name, NftCounter? Counter) ReadOne(NetlinkAttributeReader expression)
    {
        var name = "";
        var data = ReadOnlySpan<byte>.Empty;
        while (expression.TryRead(out var attribute))
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

        if (name != "counter")
        {
            // Another expression's data is not a counter's (its attribute 2 may be anything): only its name is kept.
            return (name, null);
        }

        ulong packets = 0, bytes = 0;
        var fields = new NetlinkAttributeReader(data);
        while (fields.TryRead(out var field))
        {
            if (field.Type == CounterAttr.Packets)
            {
                packets = field.GetBigEndianU64();
            }
            else if (field.Type == CounterAttr.Bytes)
            {
                bytes = field.GetBigEndianU64();
            }
        }

        return (name, new NftCounter(packets, bytes));
    }
}
