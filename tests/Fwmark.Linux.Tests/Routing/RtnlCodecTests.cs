using System.Net;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.Rtnetlink;

namespace Fwmark.Linux.Tests.Routing;

/// <summary>
/// Byte tables for the rtnetlink messages. Expected requests are what iproute2 sends for the same object
/// (captured with `strace -e trace=sendmsg -e write=3 ip ...` inside a scratch namespace, sequence number
/// replaced by 7); expected replies are what kernel 6.18 answered to `ip rule show` / `ip route show`.
/// </summary>
public sealed class RtnlCodecTests
{
    private const uint Sequence = 7;

    [Fact]
    public void A_suppress_rule_is_encoded_as_ip_rule_add_sends_it()
    {
        // ip rule add pref 1000 fwmark 0x10/0x10 lookup main suppress_prefixlength 0 proto 243
        var writer = new NetlinkWriter();
        new AddRuleChange(new PolicyRule(Rtnl.AF_INET, 1000, 0x10, 0x10, 254, 0)).Encode(ref writer, Sequence, 243);

        Assert.Equal(
            Hex.Format(Hex.Parse("""
                44000000 2000 0506 07000000 00000000
                02 00 00 00 fe 00 00 01 00000000
                0800 0600 e8030000
                0800 0a00 10000000
                0800 1000 10000000
                0800 0e00 00000000
                0500 1500 f3000000
                """)),
            Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void An_unreachable_route_in_a_large_table_is_encoded_as_ip_route_add_sends_it()
    {
        // ip route add unreachable default table 2184 metric 4294967295 proto 243
        var writer = new NetlinkWriter();
        new AddRouteChange(TableRoute.Unreachable(Rtnl.AF_INET, 2184)).Encode(ref writer, Sequence, 243);

        Assert.Equal(
            Hex.Format(Hex.Parse("""
                2c000000 1800 0506 07000000 00000000
                02 00 00 00 00 f3 00 07 00000000
                0800 0f00 88080000
                0800 0600 ffffffff
                """)),
            Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void A_gateway_route_replace_matches_ip_route_replace_except_for_the_empty_destination()
    {
        // ip -6 route replace default table 2184 metric 1024 via 2001:db8:203::2 dev vpn0 proto 243
        // iproute2 also sends RTA_DST :: for "default"; an absent RTA_DST means the same to the kernel.
        var writer = new NetlinkWriter();
        var route = TableRoute.Default(Rtnl.AF_INET6, 2184, IPAddress.Parse("2001:db8:203::2"), "vpn0");
        new ReplaceRouteChange(route, DeviceIndex: 3).Encode(ref writer, Sequence, 243);

        Assert.Equal(
            Hex.Format(Hex.Parse("""
                48000000 1800 0505 07000000 00000000
                0a 00 00 00 00 f3 00 01 00000000
                0800 0f00 88080000
                0800 0600 00040000
                1400 0500 20010db8 02030000 00000000 00000002
                0800 0400 03000000
                """)),
            Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void A_device_only_route_has_link_scope_and_no_gateway()
    {
        var writer = new NetlinkWriter();
        new ReplaceRouteChange(TableRoute.Default(Rtnl.AF_INET, 100, null, "wg0"), DeviceIndex: 5).Encode(ref writer, Sequence, 243);

        Assert.Equal(
            Hex.Format(Hex.Parse("""
                2c000000 1800 0505 07000000 00000000
                02 00 00 00 64 f3 fd 01 00000000
                0800 0600 00000000
                0800 0400 05000000
                """)),
            Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void A_withdrawal_selects_by_type_metric_and_protocol_in_any_scope()
    {
        var writer = new NetlinkWriter();
        new WithdrawRouteChange(TableRoute.Unreachable(Rtnl.AF_INET6, 2184)).Encode(ref writer, Sequence, 243);

        Assert.Equal(
            Hex.Format(Hex.Parse("""
                2c000000 1900 0500 07000000 00000000
                0a 00 00 00 00 f3 ff 07 00000000
                0800 0f00 88080000
                0800 0600 ffffffff
                """)),
            Hex.Format(writer.WrittenSpan));
    }

    [Fact]
    public void A_dumped_rule_is_decoded_with_the_table_from_its_attribute()
    {
        // The kernel puts RT_TABLE_COMPAT (252) in the header for tables above 255.
        var rule = ReadRule("""
            4c000000 2000 0200 90bc036b a14b0000
            02 00 00 00 fc 00 00 01 00000000
            0800 0f00 88080000
            0800 0e00 ffffffff
            0500 1500 f3000000
            0800 0600 e9030000
            0800 0a00 10000000
            0800 1000 10000000
            """);

        Assert.Equal(new RuleInfo(Rtnl.AF_INET, 1001, 0x10, 0x10, 2184, null, 243, 1, HasOtherSelectors: false), rule);
        Assert.True(rule.Matches(new PolicyRule(Rtnl.AF_INET, 1001, 0x10, 0x10, 2184, null)));
        Assert.False(rule.Matches(new PolicyRule(Rtnl.AF_INET, 1001, 0x10, 0x10, 2184, 0)));
    }

    [Theory]
    [InlineData("02 00 00 00 fc 00 00 01 02000000", "")]                         // "not fwmark ..."
    [InlineData("02 00 00 00 fc 00 00 01 00000000", "0900 0300 76706e30 00000000")] // iif vpn0
    [InlineData("02 00 18 00 fc 00 00 01 00000000", "0800 0200 0ac90000")]          // from 10.201.0.0/24
    public void A_rule_with_any_other_selector_is_not_taken_for_ours(string header, string extra)
    {
        var body = header + " 0800 0f00 88080000 0800 0600 e9030000 0800 0a00 10000000 0800 1000 10000000 " + extra;
        var length = 16 + Hex.Parse(body).Length;
        var rule = ReadRule($"{length:x2}000000 2000 0200 01000000 00000000 {body}");

        Assert.True(rule.HasOtherSelectors);
        Assert.False(rule.Matches(new PolicyRule(Rtnl.AF_INET, 1001, 0x10, 0x10, 2184, null)));
    }

    [Fact]
    public void A_dumped_route_is_decoded()
    {
        var reader = new NetlinkMessageReader(Hex.Parse("""
            34000000 1800 2200 90bc036b ab4b0000
            02 00 00 00 fc f3 00 01 00000000
            0800 0f00 88080000
            0800 0500 0acb0002
            0800 0400 03000000
            """));
        Assert.True(reader.TryRead(out var message));

        var route = RtnlCodec.ReadRoute(message);

        Assert.Equal(new RouteInfo(Rtnl.AF_INET, 2184, 0, 1, 243, 0, IPAddress.Parse("10.203.0.2"), 3, IsPlain: true), route);
        Assert.True(route.IsDefault);
    }

    private static RuleInfo ReadRule(string hex)
    {
        var reader = new NetlinkMessageReader(Hex.Parse(hex));
        Assert.True(reader.TryRead(out var message));
        return RtnlCodec.ReadRule(message);
    }
}
