using System.Net;
using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Config;
using Fwmark.Core.Routing;

namespace Fwmark.Core.Tests.Routing;

public class RouteSpecParserTests
{
    private const string Path = "marks.gw2.route";

    private const string TableRange = "1..4294967295 except 253 (default), 254 (main) and 255 (local)";

    private const string PriorityRange = "1..32764: the rules at priority and priority+1 must come after the local table's rule at 0 and before the main table's rule at 32766";

    private static RouteSpec? Parse(string json, uint? markValue = 0x888)
    {
        var problems = new ConfigProblems();
        var route = RouteSpecParser.Parse(Path, JsonNode.Parse(json), markValue, problems);
        problems.ThrowIfAny();
        return route;
    }

    private static CniException Fails(string json, uint? markValue = 0x888) => Assert.Throws<CniException>(() => Parse(json, markValue));

    [Fact]
    public void Parses_the_product_example()
    {
        var route = Parse("""{"table": 2184, "gateway": ["192.0.2.1", "2001:db8::1"], "device": "eth1", "priority": 1000, "failClosed": true}""");

        Assert.Equal(
            new RouteSpec
            {
                Table = 2184,
                Gateway4 = IPAddress.Parse("192.0.2.1"),
                Gateway6 = IPAddress.Parse("2001:db8::1"),
                Device = "eth1",
                Priority = 1000,
                FailClosed = true,
            },
            route);
    }

    [Theory]
    [InlineData("""{"table": 100}""")]
    [InlineData("""{"table": 100, "gateway": null, "device": null, "priority": null, "failClosed": null}""")]
    public void Optional_keys_default_when_absent_or_null(string json)
    {
        var route = Parse(json)!;

        Assert.Equal(100u, route.Table);
        Assert.Null(route.Gateway4);
        Assert.Null(route.Gateway6);
        Assert.Null(route.Device);
        Assert.Equal(RouteSpec.DefaultPriority, route.Priority);
        Assert.True(route.FailClosed);
    }

    [Fact]
    public void The_default_priority_sits_between_cilium_calico_and_tailscale_wg_quick()
    {
        Assert.InRange(RouteSpec.DefaultPriority, 101u, 5209u - 1);
    }

    [Fact]
    public void A_null_route_is_no_route()
    {
        Assert.Null(Parse("null"));
    }

    [Theory]
    [InlineData("2184", 2184u)]
    [InlineData("\"2184\"", 2184u)]
    [InlineData("\"0x888\"", 0x888u)]
    [InlineData("1", 1u)]
    [InlineData("252", 252u)]
    [InlineData("256", 256u)]
    [InlineData("4294967295", 4294967295u)]
    public void Accepts_table_ids_as_numbers_and_strings(string written, uint expected)
    {
        Assert.Equal(expected, Parse($$"""{"table": {{written}} }""")!.Table);
    }

    [Theory]
    [InlineData("\"192.0.2.1\"", "192.0.2.1", null)]
    [InlineData("\"2001:db8::1\"", null, "2001:db8::1")]
    [InlineData("[\"2001:db8::1\"]", null, "2001:db8::1")]
    [InlineData("[\"2001:db8::1\", \"192.0.2.1\"]", "192.0.2.1", "2001:db8::1")]
    [InlineData("\"2001:DB8:0::01\"", null, "2001:db8::1")]
    public void Accepts_one_gateway_per_family_as_a_string_or_a_list(string written, string? v4, string? v6)
    {
        var route = Parse($$"""{"table": 7, "gateway": {{written}} }""")!;

        Assert.Equal(v4, route.Gateway4?.ToString());
        Assert.Equal(v6, route.Gateway6?.ToString());
    }

    [Fact]
    public void A_link_local_gateway_is_accepted_with_a_device()
    {
        var route = Parse("""{"table": 7, "gateway": "fe80::1", "device": "wg0"}""")!;

        Assert.Equal(IPAddress.Parse("fe80::1"), route.Gateway6);
        Assert.Equal("wg0", route.Device);
    }

    [Theory]
    [InlineData("vpn0")]
    [InlineData("a")]
    [InlineData("fifteen-chars-x")]
    [InlineData("wg.0_a-b")]
    public void Accepts_valid_device_names(string name)
    {
        Assert.Equal(name, Parse($$"""{"table": 7, "device": "{{name}}"}""")!.Device);
    }

    [Theory]
    [InlineData("1", 1u)]
    [InlineData("32764", 32764u)]
    [InlineData("\"0x3e8\"", 1000u)]
    public void Accepts_priorities_that_leave_room_before_the_main_rule(string written, uint expected)
    {
        Assert.Equal(expected, Parse($$"""{"table": 7, "priority": {{written}} }""")!.Priority);
    }

    [Fact]
    public void FailClosed_false_is_kept()
    {
        Assert.False(Parse("""{"table": 7, "failClosed": false}""")!.FailClosed);
    }

    public static TheoryData<string, string> InvalidRoutes => new()
    {
        // the route itself
        { "5", """marks.gw2.route: 5 is not an object (expected {"table": ..., "gateway": ..., "device": ...})""" },
        { "[]", """marks.gw2.route: [] is not an object (expected {"table": ..., "gateway": ..., "device": ...})""" },

        // table
        { "{}", $"marks.gw2.route.table: missing (every route needs its own routing table, {TableRange})" },
        { """{"table": null}""", $"marks.gw2.route.table: missing (every route needs its own routing table, {TableRange})" },
        { """{"table": 0}""", $"marks.gw2.route.table: 0 is not a table id (expected {TableRange})" },
        { """{"table": 253}""", $"marks.gw2.route.table: 253 is the kernel's default table (expected {TableRange})" },
        { """{"table": 254}""", $"marks.gw2.route.table: 254 is the main table (expected {TableRange})" },
        { """{"table": "0xff"}""", $"marks.gw2.route.table: \"0xff\" is the local table (expected {TableRange})" },
        { """{"table": 4294967296}""", $"marks.gw2.route.table: 4294967296 is out of range (expected {TableRange})" },
        { """{"table": -1}""", $"marks.gw2.route.table: -1 is out of range (expected {TableRange})" },
        { """{"table": 1.5}""", $"marks.gw2.route.table: 1.5 is not an integer (expected {TableRange})" },
        { """{"table": "main"}""", "marks.gw2.route.table: \"main\" is not a number (expected decimal digits or 0x followed by hex digits)" },
        { """{"table": true}""", $"marks.gw2.route.table: true is not a number or a string (expected {TableRange}, as a number, decimal string or 0x hex string)" },

        // gateway
        { """{"table": 7, "gateway": 5}""", """marks.gw2.route.gateway: 5 is not a string or a list (expected "address" or ["IPv4 address", "IPv6 address"])""" },
        { """{"table": 7, "gateway": {"v4": "192.0.2.1"}}""", """marks.gw2.route.gateway: {"v4":"192.0.2.1"} is not a string or a list (expected "address" or ["IPv4 address", "IPv6 address"])""" },
        { """{"table": 7, "gateway": []}""", "marks.gw2.route.gateway: [] is empty (expected an address, or a list with at most one address per family)" },
        { """{"table": 7, "gateway": ["192.0.2.1", "192.0.2.2"]}""", "marks.gw2.route.gateway[1]: \"192.0.2.2\" is a second IPv4 gateway (at most one per family)" },
        { """{"table": 7, "gateway": ["2001:db8::1", "2001:db8::2"]}""", "marks.gw2.route.gateway[1]: \"2001:db8::2\" is a second IPv6 gateway (at most one per family)" },
        { """{"table": 7, "gateway": ["192.0.2.1", 7]}""", "marks.gw2.route.gateway[1]: 7 is not a string (expected an IPv4 or IPv6 address)" },
        { """{"table": 7, "gateway": [null]}""", "marks.gw2.route.gateway[0]: null is not a string (expected an IPv4 or IPv6 address)" },
        { """{"table": 7, "gateway": "fe80::1"}""", "marks.gw2.route.gateway: \"fe80::1\" is link-local, so \"device\" is required (it names the link the gateway is on)" },
        { """{"table": 7, "gateway": "::ffff:192.0.2.1"}""", "marks.gw2.route.gateway: \"::ffff:192.0.2.1\" is an IPv4-mapped IPv6 address (write the IPv4 address instead)" },

        // device
        { """{"table": 7, "device": 3}""", "marks.gw2.route.device: 3 is not a string (expected an interface name)" },
        { """{"table": 7, "device": "sixteen-chars-xy"}""", "marks.gw2.route.device: \"sixteen-chars-xy\" is not a valid interface name (expected 1-15 bytes, not \".\" or \"..\", without '/', ':' or whitespace)" },

        // priority
        { """{"table": 7, "priority": 0}""", $"marks.gw2.route.priority: 0 is out of range (expected {PriorityRange})" },
        { """{"table": 7, "priority": 32765}""", $"marks.gw2.route.priority: 32765 is out of range (expected {PriorityRange})" },
        { """{"table": 7, "priority": -5}""", $"marks.gw2.route.priority: -5 is out of range (expected {PriorityRange})" },
        { """{"table": 7, "priority": "high"}""", "marks.gw2.route.priority: \"high\" is not a number (expected decimal digits or 0x followed by hex digits)" },

        // failClosed
        { """{"table": 7, "failClosed": "yes"}""", "marks.gw2.route.failClosed: \"yes\" is not a boolean (expected true or false)" },
        { """{"table": 7, "failClosed": 0}""", "marks.gw2.route.failClosed: 0 is not a boolean (expected true or false)" },
    };

    [Theory]
    [MemberData(nameof(InvalidRoutes))]
    public void Rejects_each_invalid_value_with_its_path_and_value(string json, string problem)
    {
        var e = Fails(json);

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal($"invalid fwmark config: {problem}", e.Message);
        Assert.Equal(problem, e.Details);
    }

    [Theory]
    [InlineData("10.0.0")]
    [InlineData("10.1")]
    [InlineData("167772161")]
    [InlineData("192.0.2.256")]
    [InlineData("192.0.2.1/24")]
    [InlineData("192.0.2.01234")]
    [InlineData(" 192.0.2.1")]
    [InlineData("fe80::1%eth0")]
    [InlineData("2001:db8::1/64")]
    [InlineData("gateway.example")]
    [InlineData("")]
    public void Rejects_text_that_is_not_exactly_an_address(string text)
    {
        var e = Fails($$"""{"table": 7, "gateway": "{{text}}"}""");

        Assert.Equal(
            $"invalid fwmark config: marks.gw2.route.gateway: \"{text}\" is not an IP address (expected e.g. \"192.0.2.1\" or \"2001:db8::1\", without prefix length or %zone)",
            e.Message);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("ff02::1")]
    public void Rejects_addresses_that_cannot_be_a_next_hop(string text)
    {
        var e = Fails($$"""{"table": 7, "gateway": "{{text}}"}""");

        Assert.Equal($"invalid fwmark config: marks.gw2.route.gateway: \"{text}\" is not a unicast address (a gateway is one host's address)", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("eth0/1")]
    [InlineData("eth0:1")]
    [InlineData("vpn 0")]
    [InlineData("vpn\t0")]
    public void Rejects_names_the_kernel_refuses_for_a_device(string name)
    {
        var e = Fails($$"""{"table": 7, "device": {{JsonValue.Create(name).ToJsonString()}} }""");

        Assert.StartsWith("invalid fwmark config: marks.gw2.route.device: ", e.Message);
        Assert.EndsWith(" is not a valid interface name (expected 1-15 bytes, not \".\" or \"..\", without '/', ':' or whitespace)", e.Message);
    }

    [Fact]
    public void A_route_on_a_mark_whose_value_is_zero_is_refused()
    {
        var e = Fails("""{"table": 7}""", markValue: 0);

        Assert.Equal("invalid fwmark config: marks.gw2.route: not allowed on a mark whose value is 0 (its rules, fwmark 0/mask, would match every packet that was never marked)", e.Message);
    }

    [Fact]
    public void A_route_on_a_mark_that_did_not_parse_reports_only_its_own_problems()
    {
        Assert.NotNull(Parse("""{"table": 7}""", markValue: null));
    }

    [Fact]
    public void Reports_all_problems_of_a_route_at_once()
    {
        var e = Fails("""{"table": 254, "gateway": ["192.0.2.1", "x"], "device": "a/b", "priority": 0, "failClosed": "no"}""");

        string[] problems =
        [
            $"marks.gw2.route.table: 254 is the main table (expected {TableRange})",
            "marks.gw2.route.gateway[1]: \"x\" is not an IP address (expected e.g. \"192.0.2.1\" or \"2001:db8::1\", without prefix length or %zone)",
            "marks.gw2.route.device: \"a/b\" is not a valid interface name (expected 1-15 bytes, not \".\" or \"..\", without '/', ':' or whitespace)",
            $"marks.gw2.route.priority: 0 is out of range (expected {PriorityRange})",
            "marks.gw2.route.failClosed: \"no\" is not a boolean (expected true or false)",
        ];
        Assert.Equal($"invalid fwmark config: {problems[0]} (and 4 more problems)", e.Message);
        Assert.Equal(string.Join('\n', problems), e.Details);
    }

    [Fact]
    public void Marks_may_share_a_table_only_when_they_route_it_the_same_way()
    {
        var same = new RouteSpec { Table = 7, Gateway4 = IPAddress.Parse("192.0.2.1") };
        var problems = new ConfigProblems();

        RouteSpecParser.CheckSharedTables(
            new Dictionary<string, RouteSpec>
            {
                ["b"] = same with { Priority = 2000 },
                ["a"] = same,
                ["c"] = same with { Gateway4 = IPAddress.Parse("192.0.2.9") },
                ["other table"] = same with { Table = 8, Device = "x" },
            },
            problems);

        var e = Assert.Throws<CniException>(problems.ThrowIfAny);
        Assert.Equal(
            "invalid fwmark config: marks.c.route.table: 7 is also the table of mark \"a\", which routes it differently (marks sharing a table need the same gateway, device and failClosed)",
            e.Message);
    }

    [Fact]
    public void Only_a_family_with_its_own_gateway_or_a_device_without_any_gateway_gets_a_default_route()
    {
        var both = new RouteSpec { Table = 7, Device = "wg0" };
        var v4 = both with { Gateway4 = IPAddress.Parse("192.0.2.1") };
        var none = new RouteSpec { Table = 7 };

        Assert.True(both.HasDefaultRoute(ipv6: false) && both.HasDefaultRoute(ipv6: true));
        Assert.True(v4.HasDefaultRoute(ipv6: false));
        Assert.False(v4.HasDefaultRoute(ipv6: true));
        Assert.False(none.HasDefaultRoute(ipv6: false) || none.HasDefaultRoute(ipv6: true));
    }
}
