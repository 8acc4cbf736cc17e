using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>Decodes the parts of a NEWRULE (dump reply) that identify a rule: chain, handle, comment, expression names.</summary>
internal static class NftRuleCodec
{
    public static NftRuleInfo Read(in NetlinkMessage message)
    {
        var attributes = message.Attributes(NfNetlink.GenMsgSize);
        string? chain = null;
        ulong handle = 0;
        string? comment = null;
        var names = new List<string>();
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case RuleAttr.Chain:
                    chain = attribute.GetString();
                    break;
                case RuleAttr.Handle:
                    handle = attribute.GetBigEndianU64();
                    break;
                case RuleAttr.UserData:
                    comment = NftUserData.ReadComment(attribute.Value);
                    break;
                case RuleAttr.Expressions:
                    var list = attribute.GetNested();
                    while (list.TryRead(out var element))
                    {
                        if (element.Type == ListAttr.Elem && element.GetNested().TryFind(ExprAttr.Name, out var name))
                        {
                            names.Add(name.GetString());
                        }
                    }

                    break;
            }
        }

        return new NftRuleInfo(chain ?? throw new NetlinkFormatException("rule without a chain name"), handle, comment, names);
    }
}
