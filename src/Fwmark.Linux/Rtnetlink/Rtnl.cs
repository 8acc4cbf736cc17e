namespace Fwmark.Linux.Rtnetlink;

// Wire constants from linux/rtnetlink.h, linux/fib_rules.h and linux/if_link.h. Every integer
// attribute of rtnetlink is in host byte order; addresses are in network order.

/// <summary>Message types and the fixed family headers that follow nlmsghdr.</summary>
internal static class Rtnl
{
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_NEWROUTE = 24;
    public const ushort RTM_DELROUTE = 25;
    public const ushort RTM_GETROUTE = 26;
    public const ushort RTM_NEWRULE = 32;
    public const ushort RTM_DELRULE = 33;
    public const ushort RTM_GETRULE = 34;

    /// <summary>sizeof(struct rtmsg) and sizeof(struct fib_rule_hdr): both 12 bytes.</summary>
    public const int RouteHeaderSize = 12;

    public const int RuleHeaderSize = 12;

    /// <summary>sizeof(struct ifinfomsg).</summary>
    public const int LinkHeaderSize = 16;

    public const byte AF_UNSPEC = 0;
    public const byte AF_INET = 2;
    public const byte AF_INET6 = 10;

    public static string FamilyName(byte family) => family == AF_INET6 ? "IPv6" : "IPv4";

    /// <summary>`ip` or `ip -6`: how an operator addresses the same family on the command line.</summary>
    public static string IpCommand(byte family) => family == AF_INET6 ? "ip -6" : "ip";
}

/// <summary>enum rtattr_type_t (route attributes).</summary>
internal static class RouteAttr
{
    public const ushort Dst = 1;
    public const ushort Oif = 4;
    public const ushort Gateway = 5;
    public const ushort Priority = 6;
    public const ushort Multipath = 9;
    public const ushort Table = 15;
}

/// <summary>FRA_* (rule attributes).</summary>
internal static class FibRuleAttr
{
    public const ushort Priority = 6;
    public const ushort FwMark = 10;
    public const ushort SuppressIfGroup = 13;
    public const ushort SuppressPrefixLength = 14;
    public const ushort Table = 15;
    public const ushort FwMask = 16;
    public const ushort Pad = 18;
    public const ushort Protocol = 21;

    /// <summary>FR_ACT_TO_TBL: look the packet up in a table.</summary>
    public const byte ActionToTable = 1;

    /// <summary>FIB_RULE_INVERT ("not fwmark ..."): such a rule selects the opposite traffic.</summary>
    public const uint FlagInvert = 0x2;

    /// <summary>The kernel reports an unset suppress_prefixlength as -1.</summary>
    public const uint SuppressUnset = uint.MaxValue;
}

/// <summary>Route types, tables and scopes (enum rtm_type_t, rt_class_t, rt_scope_t).</summary>
internal static class RouteKind
{
    public const byte Unicast = 1;
    public const byte Unreachable = 7;

    public const byte TableUnspec = 0;
    public const uint TableMain = 254;

    public const byte ScopeUniverse = 0;
    public const byte ScopeLink = 253;

    /// <summary>In a delete request: "any scope".</summary>
    public const byte ScopeNowhere = 255;
}

/// <summary>Link attributes (IFLA_*) and flags this layer reads.</summary>
internal static class LinkAttr
{
    public const ushort IfName = 3;

    public const uint FlagUp = 0x1;
}
