using System.Net;
using System.Runtime.InteropServices;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Rtnetlink;

/// <summary>
/// Encodes the rtnetlink requests fwmark sends (rules, routes, link lookups, dumps) and decodes the
/// replies into <see cref="RuleInfo"/>, <see cref="RouteInfo"/> and <see cref="LinkInfo"/>. Table ids
/// above 255 do not fit the u8 in the family headers: the header then carries 0 and the id travels in
/// FRA_TABLE / RTA_TABLE, which the kernel prefers. Attribute order and choices follow iproute2, so a
/// request can be compared byte for byte with what `ip` sends for the same object.
/// </summary>
internal static class RtnlCodec
{
    public static void WriteRule(ref NetlinkWriter writer, ushort type, ushort flags, uint sequence, PolicyRule rule, byte protocol)
    {
        var message = writer.BeginMessage(type, flags, sequence);
        var header = writer.ReserveHeader(Rtnl.RuleHeaderSize);
        header[0] = rule.Family;
        header[4] = ShortTable(rule.Table);
        header[7] = FibRuleAttr.ActionToTable;
        writer.WriteU32(FibRuleAttr.Priority, rule.Priority);
        writer.WriteU32(FibRuleAttr.FwMark, rule.Mark);
        writer.WriteU32(FibRuleAttr.FwMask, rule.Mask);
        WriteLongTable(ref writer, FibRuleAttr.Table, rule.Table);
        if (rule.SuppressPrefixLength is { } length)
        {
            writer.WriteU32(FibRuleAttr.SuppressPrefixLength, length);
        }

        writer.WriteU8(FibRuleAttr.Protocol, protocol);
        writer.EndMessage(message);
    }

    /// <param name="scope">RT_SCOPE_* for an add; <see cref="RouteKind.ScopeNowhere"/> ("any") for a delete.</param>
    /// <param name="outputInterface">Index of <see cref="TableRoute.Device"/>, resolved by the caller.</param>
    public static void WriteRoute(ref NetlinkWriter writer, ushort type, ushort flags, uint sequence, TableRoute route, byte protocol, byte scope, int? outputInterface)
    {
        var message = writer.BeginMessage(type, flags, sequence);
        var header = writer.ReserveHeader(Rtnl.RouteHeaderSize);
        header[0] = route.Family;
        header[4] = ShortTable(route.Table);
        header[5] = protocol;
        header[6] = scope;
        header[7] = route.Type;
        WriteLongTable(ref writer, RouteAttr.Table, route.Table);
        writer.WriteU32(RouteAttr.Priority, route.Metric);
        if (route.Gateway is { } gateway)
        {
            Span<byte> address = stackalloc byte[16];
            gateway.TryWriteBytes(address, out var length);
            writer.WriteAttribute(RouteAttr.Gateway, address[..length]);
        }

        if (outputInterface is { } index)
        {
            writer.WriteU32(RouteAttr.Oif, (uint)index);
        }

        writer.EndMessage(message);
    }

    public static void WriteRuleDump(ref NetlinkWriter writer, byte family, uint sequence)
    {
        var message = writer.BeginMessage(Rtnl.RTM_GETRULE, NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_DUMP, sequence);
        writer.ReserveHeader(Rtnl.RuleHeaderSize)[0] = family;
        writer.EndMessage(message);
    }

    /// <summary>With NETLINK_GET_STRICT_CHK on, the kernel returns only <paramref name="table"/>'s routes.</summary>
    public static void WriteRouteDump(ref NetlinkWriter writer, byte family, uint table, uint sequence)
    {
        var message = writer.BeginMessage(Rtnl.RTM_GETROUTE, NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_DUMP, sequence);
        var header = writer.ReserveHeader(Rtnl.RouteHeaderSize);
        header[0] = family;
        header[4] = ShortTable(table);
        WriteLongTable(ref writer, RouteAttr.Table, table);
        writer.EndMessage(message);
    }

    /// <summary>RTM_GETLINK for one interface, by name (index 0) or by index (name null).</summary>
    public static void WriteLinkGet(ref NetlinkWriter writer, string? name, int index, uint sequence)
    {
        var message = writer.BeginMessage(Rtnl.RTM_GETLINK, NetlinkConstants.NLM_F_REQUEST | NetlinkConstants.NLM_F_ACK, sequence);
        var header = writer.ReserveHeader(Rtnl.LinkHeaderSize);
        MemoryMarshal.Write(header[4..], in index);
        if (name is not null)
        {
            writer.WriteString(LinkAttr.IfName, name);
        }

        writer.EndMessage(message);
    }

    public static RuleInfo ReadRule(in NetlinkMessage message)
    {
        var header = Header(message, Rtnl.RuleHeaderSize, "rule");
        var flags = MemoryMarshal.Read<uint>(header[8..]);
        uint priority = 0, mark = 0, mask = 0, table = header[4];
        uint? suppress = null;
        byte protocol = 0;
        var other = header[1] != 0 || header[2] != 0 || header[3] != 0 || (flags & FibRuleAttr.FlagInvert) != 0;
        var attributes = message.Attributes(Rtnl.RuleHeaderSize);
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case FibRuleAttr.Priority:
                    priority = attribute.GetU32();
                    break;
                case FibRuleAttr.FwMark:
                    mark = attribute.GetU32();
                    break;
                case FibRuleAttr.FwMask:
                    mask = attribute.GetU32();
                    break;
                case FibRuleAttr.Table:
                    table = attribute.GetU32();
                    break;
                case FibRuleAttr.SuppressPrefixLength:
                    var length = attribute.GetU32();
                    suppress = length == FibRuleAttr.SuppressUnset ? null : length;
                    break;
                case FibRuleAttr.Protocol:
                    protocol = attribute.GetU8();
                    break;
                case FibRuleAttr.Pad:
                    break;
                default:
                    // The kernel dumps every other selector (addresses, iif/oif, uid range, ports,
                    // suppress_ifgroup, goto, l3mdev, dscp...) only when the rule has it.
                    other = true;
                    break;
            }
        }

        return new RuleInfo(header[0], priority, mark, mask, table, suppress, protocol, header[7], other);
    }

    public static RouteInfo ReadRoute(in NetlinkMessage message)
    {
        var header = Header(message, Rtnl.RouteHeaderSize, "route");
        uint table = header[4], metric = 0;
        IPAddress? gateway = null, destination = null;
        var outputInterface = 0;
        var plain = header[2] == 0 && header[3] == 0;
        var attributes = message.Attributes(Rtnl.RouteHeaderSize);
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case RouteAttr.Table:
                    table = attribute.GetU32();
                    break;
                case RouteAttr.Priority:
                    metric = attribute.GetU32();
                    break;
                case RouteAttr.Gateway:
                    gateway = attribute.Value.Length is 4 or 16
                        ? new IPAddress(attribute.Value)
                        : throw new NetlinkFormatException($"route gateway of {attribute.Value.Length} bytes");
                    break;
                case RouteAttr.Oif:
                    outputInterface = (int)attribute.GetU32();
                    break;
                case RouteAttr.Dst:
                    destination = attribute.Value.Length is 4 or 16 ? new IPAddress(attribute.Value) : null;
                    break;
                case RouteAttr.Multipath:
                    plain = false;
                    break;
            }
        }

        return new RouteInfo(header[0], table, header[1], header[7], header[5], metric, gateway, outputInterface, plain, destination);
    }

    public static LinkInfo ReadLink(in NetlinkMessage message)
    {
        var header = Header(message, Rtnl.LinkHeaderSize, "link");
        var index = MemoryMarshal.Read<int>(header[4..]);
        var flags = MemoryMarshal.Read<uint>(header[8..]);
        string? name = null;
        var attributes = message.Attributes(Rtnl.LinkHeaderSize);
        if (attributes.TryFind(LinkAttr.IfName, out var attribute))
        {
            name = attribute.GetString();
        }

        return new LinkInfo(index, name ?? throw new NetlinkFormatException("link without a name"), (flags & LinkAttr.FlagUp) != 0);
    }

    private static byte ShortTable(uint table) => table < 256 ? (byte)table : RouteKind.TableUnspec;

    private static void WriteLongTable(ref NetlinkWriter writer, ushort type, uint table)
    {
        if (table >= 256)
        {
            writer.WriteU32(type, table);
        }
    }

    private static ReadOnlySpan<byte> Header(in NetlinkMessage message, int size, string what) =>
        message.Payload.Length >= size
            ? message.Payload[..size]
            : throw new NetlinkFormatException($"{what} message of {message.Payload.Length} bytes is shorter than its {size}-byte header");
}
