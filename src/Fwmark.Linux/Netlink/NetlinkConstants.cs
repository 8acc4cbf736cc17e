namespace Fwmark.Linux.Netlink;

/// <summary>Wire constants from linux/netlink.h shared by every netlink family.</summary>
public static class NetlinkConstants
{
    /// <summary>sizeof(struct nlmsghdr).</summary>
    public const int MessageHeaderSize = 16;

    /// <summary>sizeof(struct nlattr).</summary>
    public const int AttributeHeaderSize = 4;

    /// <summary>Messages and attributes start on 4-byte boundaries (NLMSG_ALIGNTO / NLA_ALIGNTO).</summary>
    public const int Alignment = 4;

    /// <summary>nla_len is a u16, so one attribute (nested ones included) holds at most this many bytes.</summary>
    public const int MaxAttributeLength = ushort.MaxValue;

    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;

    /// <summary>Message types below this are netlink control messages, not protocol messages.</summary>
    public const ushort NLMSG_MIN_TYPE = 0x10;

    public const ushort NLM_F_REQUEST = 0x01;
    public const ushort NLM_F_MULTI = 0x02;
    public const ushort NLM_F_ACK = 0x04;
    public const ushort NLM_F_ECHO = 0x08;
    public const ushort NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_DUMP_FILTERED = 0x20;

    // GET requests
    public const ushort NLM_F_ROOT = 0x100;
    public const ushort NLM_F_MATCH = 0x200;
    public const ushort NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

    // NEW requests
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_APPEND = 0x800;

    // Flags of NLMSG_ERROR messages
    public const ushort NLM_F_CAPPED = 0x100;
    public const ushort NLM_F_ACK_TLVS = 0x200;

    public const ushort NLA_F_NESTED = 0x8000;
    public const ushort NLA_F_NET_BYTEORDER = 0x4000;
    public const ushort NLA_TYPE_MASK = 0x3fff;

    // Socket options at SOL_NETLINK
    public const int NETLINK_CAP_ACK = 10;
    public const int NETLINK_EXT_ACK = 11;
    public const int NETLINK_GET_STRICT_CHK = 12;

    // Extended ACK TLVs (enum nlmsgerr_attrs)
    public const ushort NLMSGERR_ATTR_MSG = 1;
    public const ushort NLMSGERR_ATTR_OFFS = 2;
    public const ushort NLMSGERR_ATTR_MISS_TYPE = 5;

    // Protocols
    public const int NETLINK_ROUTE = 0;
    public const int NETLINK_NETFILTER = 12;

    /// <summary>Rounds <paramref name="length"/> up to the 4-byte netlink alignment.</summary>
    public static int Align(int length) => (length + Alignment - 1) & ~(Alignment - 1);
}
