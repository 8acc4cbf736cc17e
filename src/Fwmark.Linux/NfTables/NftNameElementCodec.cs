using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>One-element NEW/DEL/GETSETELEM messages for ifname sets, and reading their elements back.</summary>
internal static class NftNameElementCodec
{
    public static void Write(ref NetlinkWriter writer, NftMessageType type, ushort flags, uint sequence, NftTable table, NftNameElement element) =>
        NftElementCodec.WriteList(ref writer, type, flags, sequence, table, element.Set, [(element.KeyBytes, element.Comment)]);

    public static void ReadElements(in NetlinkMessage message, List<NftNameElementInfo> into)
    {
        var attributes = message.Attributes(NfNetlink.GenMsgSize);
        if (!attributes.TryFind(SetElemListAttr.Elements, out var elements))
        {
            return;
        }

        var list = elements.GetNested();
        while (list.TryRead(out var item))
        {
            if (item.Type != ListAttr.Elem)
            {
                continue;
            }

            string? name = null;
            string? comment = null;
            NftCounter? counter = null;
            var fields = item.GetNested();
            while (fields.TryRead(out var field))
            {
                if (field.Type == SetElemAttr.Key && field.GetNested().TryFind(DataAttr.Value, out var bytes))
                {
                    name = bytes.Value.Length == NftNameElement.KeyLength
                        ? NftNameElement.Decode(bytes.Value)
                        : throw new NetlinkFormatException($"ifname set element key of {bytes.Value.Length} bytes");
                }
                else if (field.Type == SetElemAttr.UserData)
                {
                    comment = NftUserData.ReadComment(field.Value);
                }
                else if (field.Type is SetElemAttr.Expr or SetElemAttr.Expressions)
                {
                    // The element's own counter, from the set's counter template (as NftElementCodec reads it).
                    counter = NftSetExpressions.Read(field, field.Type == SetElemAttr.Expressions)
                        .Select(e => e.Counter).FirstOrDefault(c => c is not null);
                }
            }

            into.Add(new NftNameElementInfo(name ?? throw new NetlinkFormatException("set element without a key"), comment) { Counter = counter });
        }
    }
}
