using System.Net;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>Encodes one-element NEW/DEL/GETSETELEM messages and decodes elements from replies.</summary>
internal static class NftElementCodec
{
    /// <summary>
    /// One element per message, on purpose: errors then name exactly one key, and a message can
    /// never outgrow the 64 KiB limit of the nested element list however many pods there are.
    /// </summary>
    public static void Write(ref NetlinkWriter writer, NftMessageType type, ushort flags, uint sequence, NftTable table, NftElement element) =>
        WriteList(ref writer, type, flags, sequence, table, element.Set, [(element.KeyBytes, element.Comment)]);

    /// <summary>
    /// One NEW/DEL/GETSETELEM message for <paramref name="set"/> with every item in its element list: a key (an
    /// address's bytes or an interface name's, <see cref="NftNameElementCodec"/>) and, when it has one, its owner comment.
    /// </summary>
    public static void WriteList(ref NetlinkWriter writer, NftMessageType type, ushort flags, uint sequence, NftTable table, string set, IEnumerable<(byte[] Key, string? Comment)> items)
    {
        var message = NftMessage.Begin(ref writer, type, flags, sequence, table.Family);
        writer.WriteString(SetElemListAttr.Table, table.Name);
        writer.WriteString(SetElemListAttr.Set, set);
        var list = writer.BeginNested(SetElemListAttr.Elements);
        foreach (var (key, comment) in items)
        {
            var item = writer.BeginNested(ListAttr.Elem);
            var keyNest = writer.BeginNested(SetElemAttr.Key);
            writer.WriteAttribute(DataAttr.Value, key);
            writer.EndNested(keyNest);
            if (comment is not null)
            {
                writer.WriteAttribute(SetElemAttr.UserData, NftUserData.Comment(comment));
            }

            writer.EndNested(item);
        }

        writer.EndNested(list);
        writer.EndMessage(message);
    }

    /// <summary>Reads every element of a NEWSETELEM message (a GET reply or one dump chunk).</summary>
    public static void ReadElements(in NetlinkMessage message, List<NftElementInfo> into)
    {
        var attributes = message.Attributes(NfNetlink.GenMsgSize);
        if (!attributes.TryFind(SetElemListAttr.Elements, out var elements))
        {
            return;
        }

        var list = elements.GetNested();
        while (list.TryRead(out var item))
        {
            // issue 8: a catch-all element ("{ * }", added by someone else) has no key; skip it, never fail.
            if (item.Type == ListAttr.Elem && ReadElement(item.GetNested()) is { } element)
            {
                into.Add(element);
            }
        }
    }

    private static NftElementInfo? ReadElement(NetlinkAttributeReader attributes)
    {
        IPAddress? key = null;
        string? comment = null;
        NftCounter? counter = null;
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case SetElemAttr.Key:
                    var value = attribute.GetNested();
                    if (value.TryFind(DataAttr.Value, out var bytes))
                    {
                        key = bytes.Value.Length is 4 or 16
                            ? new IPAddress(bytes.Value)
                            : throw new NetlinkFormatException($"set element key of {bytes.Value.Length} bytes is not an address");
                    }

                    break;
                case SetElemAttr.UserData:
                    comment = NftUserData.ReadComment(attribute.Value);
                    break;
                case SetElemAttr.Expr or SetElemAttr.Expressions:
                    counter = NftSetExpressions.Read(attribute, attribute.Type == SetElemAttr.Expressions)
                        .Select(e => e.Counter).FirstOrDefault(c => c is not null);
                    break;
            }
        }

        return key is null ? null : new NftElementInfo(key, comment) { Counter = counter };
    }
}
