using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.NfTables;

/// <summary>Decodes a NEWRULE (dump reply): chain, handle, comment and every expression with its operands.</summary>
internal static class NftRuleCodec
{
    public static NftRuleInfo Read(in NetlinkMessage message)
    {
        var attributes = message.Attributes(NfNetlink.GenMsgSize);
        string? chain = null;
        ulong handle = 0;
        string? comment = null;
        var expressions = new List<NftExpressionShape>();
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
                        if (element.Type == ListAttr.Elem)
                        {
                            expressions.Add(NftExpressionShape.Read(element.GetNested()));
                        }
                    }

                    break;
            }
        }

        return new NftRuleInfo(chain ?? throw new NetlinkFormatException("rule without a chain name"), handle, comment, expressions);
    }
}
