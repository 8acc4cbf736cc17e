using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Config;

namespace Fwmark.Core.Tests.Config;

public class PluginConfigParserTests
{
    private static PluginConfig Parse(string json) => PluginConfigParser.Parse(JsonNode.Parse(json)!.AsObject());

    private static CniException Fails(string json) => Assert.Throws<CniException>(() => Parse(json));

    [Fact]
    public void Parses_the_product_example_without_route()
    {
        var config = Parse("""
            {
              "type": "fwmark",
              "capabilities": { "io.kubernetes.cri.pod-annotations": true },
              "marks": { "vpn": { "mark": 16, "mask": 16 }, "gw2": { "mark": "0x888" } },
              "defaultMark": "gw2",
              "namespaces": { "secure": "vpn" },
              "connmark": false
            }
            """);

        Assert.Equal(new MarkSpec("vpn", 16, 16), config.Marks["vpn"]);
        Assert.Equal(new MarkSpec("gw2", 0x888, 0xffffffff), config.Marks["gw2"]);
        Assert.Equal(2, config.Marks.Count);
        Assert.Equal("gw2", config.DefaultMark);
        Assert.Equal("vpn", Assert.Single(config.Namespaces, kv => kv.Key == "secure").Value);
        Assert.Single(config.Namespaces);
        Assert.False(config.Connmark);
    }

    [Fact]
    public void Optional_keys_default_when_absent_or_null()
    {
        foreach (var json in new[]
        {
            """{"marks": {"vpn": {"mark": 1}}}""",
            """{"marks": {"vpn": {"mark": 1, "mask": null, "route": null}}, "defaultMark": null, "namespaces": null, "connmark": null}""",
        })
        {
            var config = Parse(json);
            Assert.Equal(new MarkSpec("vpn", 1, 0xffffffff), config.Marks["vpn"]);
            Assert.Null(config.DefaultMark);
            Assert.Empty(config.Namespaces);
            Assert.False(config.Connmark);
        }
    }

    [Fact]
    public void Ignores_unknown_top_level_and_runtime_keys()
    {
        var config = Parse("""
            {
              "cniVersion": "1.0.0", "name": "net", "type": "fwmark",
              "prevResult": {"ips": []}, "runtimeConfig": {"x": 1}, "args": {"cni": {}},
              "somethingElse": [1, 2, {"marks": 5}],
              "marks": {"vpn": {"mark": 16, "mask": 16}}
            }
            """);

        Assert.Equal(new MarkSpec("vpn", 16, 16), Assert.Single(config.Marks).Value);
    }

    // Issue 8: "rout" marked the pod but made no routing; "defaultmark" marked nothing; both exit 0 on main.
    [Theory]
    [InlineData("""{"marks": {"vpn": {"mark": 16, "rout": {"table": 100}}}}""", "marks.vpn.rout: is not a key of a mark (did you mean \"route\"?")]
    [InlineData("""{"marks": {"vpn": {"mark": 16, "comment": "x"}}}""", "marks.vpn.comment: is not a key of a mark (expected one of mark, mask, route)")]
    [InlineData("""{"marks": {"vpn": {"mark": 16, "route": {"table": 100, "gatway": "192.0.2.1"}}}}""", "marks.vpn.route.gatway: is not a key of a route (did you mean \"gateway\"?")]
    [InlineData("""{"marks": {"vpn": {"mark": 16, "route": {"table": 100, "failclosed": false}}}}""", "marks.vpn.route.failclosed: is not a key of a route (did you mean \"failClosed\"?")]
    [InlineData("""{"marks": {"vpn": {"mark": 16}}, "defaultmark": "vpn"}""", "defaultmark: is not a fwmark key; did you mean \"defaultMark\"? (keys are case-sensitive)")]
    [InlineData("""{"marks": {"vpn": {"mark": 16}}, "Connmark": true}""", "Connmark: is not a fwmark key; did you mean \"connmark\"?")]
    [InlineData("""{"Marks": {"vpn": {"mark": 16}}, "marks": {"vpn": {"mark": 16}}}""", "Marks: is not a fwmark key; did you mean \"marks\"?")]
    public void A_typo_in_a_fwmark_key_is_an_error_naming_the_key(string json, string expected)
    {
        var e = Assert.Throws<CniException>(() => Parse(json));

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Contains(expected, e.Details, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 0u)]
    [InlineData("16", 16u)]
    [InlineData("4294967295", 0xffffffffu)]
    [InlineData("-0", 0u)]
    [InlineData("\"16\"", 16u)]
    [InlineData("\"0\"", 0u)]
    [InlineData("\"4294967295\"", 0xffffffffu)]
    [InlineData("\"0x10\"", 16u)]
    [InlineData("\"0X10\"", 16u)]
    [InlineData("\"0xAbC\"", 0xabcu)]
    [InlineData("\"0xffffffff\"", 0xffffffffu)]
    [InlineData("\"0x00000000ffffffff\"", 0xffffffffu)]
    [InlineData("\"0x80000000\"", 0x80000000u)]
    [InlineData("\"007\"", 7u)]
    public void Accepts_number_decimal_string_and_hex_string(string written, uint expected)
    {
        var asMark = Parse($$"""{"marks": {"m": {"mark": {{written}} } } }""");
        Assert.Equal(expected, asMark.Marks["m"].Value);

        // The same forms are accepted for the mask (a zero mask is refused on its own).
        if (expected != 0)
        {
            var asMask = Parse($$"""{"marks": {"m": {"mark": 0, "mask": {{written}} } } }""");
            Assert.Equal(expected, asMask.Marks["m"].Mask);
        }
    }

    [Theory]
    [InlineData("vpn")]
    [InlineData("a")]
    [InlineData("VPN.eu-west_2")]
    [InlineData("0")]
    [InlineData("...")]
    [InlineData("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123")] // 63
    public void Accepts_valid_mark_names(string name)
    {
        var config = Parse($$"""{"marks": {"{{name}}": {"mark": 1} } }""");
        Assert.Equal(name, config.Marks[name].Name);
    }

    public static TheoryData<string, string> InvalidConfigs => new()
    {
        // marks
        { """{}""", """marks: missing (at least one mark is required)""" },
        { """{"marks": null}""", """marks: null is not an object (expected mark name → {"mark": ..., "mask": ...})""" },
        { """{"marks": [{"mark": 1}]}""", """marks: [{"mark":1}] is not an object (expected mark name → {"mark": ..., "mask": ...})""" },
        { """{"marks": "vpn"}""", """marks: "vpn" is not an object (expected mark name → {"mark": ..., "mask": ...})""" },
        { """{"marks": {}}""", """marks: {} is empty (at least one mark is required)""" },
        { """{"marks": {"vpn": 16}}""", """marks.vpn: 16 is not an object (expected {"mark": ..., "mask": ...})""" },
        { """{"marks": {"vpn": null}}""", """marks.vpn: null is not an object (expected {"mark": ..., "mask": ...})""" },
        { """{"marks": {"vpn": {"mask": 16}}}""", """marks.vpn.mark: missing (every mark needs a value)""" },

        // names
        { """{"marks": {"bad name": {"mark": 1}}}""", """marks["bad name"]: "bad name" is not a valid mark name (expected 1-63 characters of A-Z a-z 0-9 . _ -)""" },
        { """{"marks": {"": {"mark": 1}}}""", """marks[""]: "" is not a valid mark name (expected 1-63 characters of A-Z a-z 0-9 . _ -)""" },
        { """{"marks": {"vpn\n": {"mark": 1}}}""", """marks["vpn\n"]: "vpn\n" is not a valid mark name (expected 1-63 characters of A-Z a-z 0-9 . _ -)""" },
        { """{"marks": {"a/b": {"mark": 1}}}""", """marks["a/b"]: "a/b" is not a valid mark name (expected 1-63 characters of A-Z a-z 0-9 . _ -)""" },
        { """{"marks": {"vpñ": {"mark": 1}}}""", """marks["vpñ"]: "vpñ" is not a valid mark name (expected 1-63 characters of A-Z a-z 0-9 . _ -)""" },
        {
            """{"marks": {"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234": {"mark": 1}}}""",
            """marks.abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234: "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234" is not a valid mark name (expected 1-63 characters of A-Z a-z 0-9 . _ -)"""
        },

        // mark values: wrong types
        { """{"marks": {"vpn": {"mark": true}}}""", """marks.vpn.mark: true is not a number or a string (expected 0..4294967295, as a number, decimal string or 0x hex string)""" },
        { """{"marks": {"vpn": {"mark": null}}}""", """marks.vpn.mark: null is not a number or a string (expected 0..4294967295, as a number, decimal string or 0x hex string)""" },
        { """{"marks": {"vpn": {"mark": [16]}}}""", """marks.vpn.mark: [16] is not a number or a string (expected 0..4294967295, as a number, decimal string or 0x hex string)""" },
        { """{"marks": {"vpn": {"mark": 16, "mask": {"v": 16}}}}""", """marks.vpn.mask: {"v":16} is not a number or a string (expected 0..4294967295, as a number, decimal string or 0x hex string)""" },

        // mark values: numbers out of range or not integers
        { """{"marks": {"vpn": {"mark": -1}}}""", """marks.vpn.mark: -1 is out of range (expected 0..4294967295)""" },
        { """{"marks": {"vpn": {"mark": 4294967296}}}""", """marks.vpn.mark: 4294967296 is out of range (expected 0..4294967295)""" },
        { """{"marks": {"vpn": {"mark": 123456789012345678901234567890}}}""", """marks.vpn.mark: 123456789012345678901234567890 is out of range (expected 0..4294967295)""" },
        { """{"marks": {"vpn": {"mark": 1.5}}}""", """marks.vpn.mark: 1.5 is not an integer (expected 0..4294967295)""" },
        { """{"marks": {"vpn": {"mark": 16.0}}}""", """marks.vpn.mark: 16.0 is not an integer (expected 0..4294967295)""" },
        { """{"marks": {"vpn": {"mark": 1e3}}}""", """marks.vpn.mark: 1e3 is not an integer (expected 0..4294967295)""" },
        { """{"marks": {"vpn": {"mark": -1.5}}}""", """marks.vpn.mark: -1.5 is not an integer (expected 0..4294967295)""" },
        { """{"marks": {"vpn": {"mark": 1, "mask": -16}}}""", """marks.vpn.mask: -16 is out of range (expected 0..4294967295)""" },

        // mark values: strings
        { """{"marks": {"vpn": {"mark": "4294967296"}}}""", """marks.vpn.mark: "4294967296" is out of range (expected 0..4294967295)""" },
        { """{"marks": {"vpn": {"mark": "0x100000000"}}}""", """marks.vpn.mark: "0x100000000" is out of range (expected 0..4294967295)""" },
        { """{"marks": {"vpn": {"mark": ""}}}""", """marks.vpn.mark: "" is not a number (expected decimal digits or 0x followed by hex digits)""" },
        { """{"marks": {"vpn": {"mark": "0x"}}}""", """marks.vpn.mark: "0x" is not a number (expected decimal digits or 0x followed by hex digits)""" },
        { """{"marks": {"vpn": {"mark": "0x1g"}}}""", """marks.vpn.mark: "0x1g" is not a number (expected decimal digits or 0x followed by hex digits)""" },
        { """{"marks": {"vpn": {"mark": "abc"}}}""", """marks.vpn.mark: "abc" is not a number (expected decimal digits or 0x followed by hex digits)""" },
        { """{"marks": {"vpn": {"mark": "-1"}}}""", """marks.vpn.mark: "-1" is not a number (expected decimal digits or 0x followed by hex digits)""" },
        { """{"marks": {"vpn": {"mark": " 16"}}}""", """marks.vpn.mark: " 16" is not a number (expected decimal digits or 0x followed by hex digits)""" },
        { """{"marks": {"vpn": {"mark": "16 "}}}""", """marks.vpn.mark: "16 " is not a number (expected decimal digits or 0x followed by hex digits)""" },
        { """{"marks": {"vpn": {"mark": "+16"}}}""", """marks.vpn.mark: "+16" is not a number (expected decimal digits or 0x followed by hex digits)""" },
        { """{"marks": {"vpn": {"mark": "1.5"}}}""", """marks.vpn.mark: "1.5" is not a number (expected decimal digits or 0x followed by hex digits)""" },
        { """{"marks": {"vpn": {"mark": "x10"}}}""", """marks.vpn.mark: "x10" is not a number (expected decimal digits or 0x followed by hex digits)""" },
        {
            """{"marks": {"vpn": {"mark": "0123456789012345678901234567890123456789012345678901234567890123456789"}}}""",
            """marks.vpn.mark: "01234567890123456789012345678901234567890123456789012345... is out of range (expected 0..4294967295)"""
        },

        // mask semantics
        { """{"marks": {"vpn": {"mark": 0, "mask": 0}}}""", """marks.vpn.mask: 0 is not allowed (mask must have at least one bit set)""" },
        { """{"marks": {"vpn": {"mark": 0, "mask": "0x0"}}}""", """marks.vpn.mask: "0x0" is not allowed (mask must have at least one bit set)""" },
        { """{"marks": {"vpn": {"mark": 17, "mask": 16}}}""", """marks.vpn.mark: 17 has bits outside the mask (0x11 & ~0x10 = 0x1)""" },
        { """{"marks": {"vpn": {"mark": "0xff00", "mask": "0x0f00"}}}""", """marks.vpn.mark: "0xff00" has bits outside the mask (0xff00 & ~0xf00 = 0xf000)""" },

        // defaultMark
        { """{"marks": {"vpn": {"mark": 1}, "gw2": {"mark": 2}}, "defaultMark": 5}""", """defaultMark: 5 is not a string (expected a mark name)""" },
        { """{"marks": {"vpn": {"mark": 1}, "gw2": {"mark": 2}}, "defaultMark": "gw3"}""", """defaultMark: "gw3" does not name a mark (valid names: gw2, vpn)""" },
        { """{"marks": {"vpn": {"mark": 1}, "gw2": {"mark": 2}}, "defaultMark": ""}""", """defaultMark: "" does not name a mark (valid names: gw2, vpn)""" },
        { """{"marks": {"vpn": {"mark": 1}, "gw2": {"mark": 2}}, "defaultMark": "VPN"}""", """defaultMark: "VPN" does not name a mark (valid names: gw2, vpn)""" },

        // namespaces
        { """{"marks": {"vpn": {"mark": 1}}, "namespaces": ["secure"]}""", """namespaces: ["secure"] is not an object (expected Kubernetes namespace → mark name)""" },
        { """{"marks": {"vpn": {"mark": 1}}, "namespaces": {"": "vpn"}}""", """namespaces[""]: "" is not a namespace name (must not be empty)""" },
        { """{"marks": {"vpn": {"mark": 1}}, "namespaces": {"secure": 3}}""", """namespaces.secure: 3 is not a string (expected a mark name)""" },
        { """{"marks": {"vpn": {"mark": 1}}, "namespaces": {"secure": null}}""", """namespaces.secure: null is not a string (expected a mark name)""" },
        { """{"marks": {"vpn": {"mark": 1}, "gw2": {"mark": 2}}, "namespaces": {"secure": "vpm"}}""", """namespaces.secure: "vpm" does not name a mark (valid names: gw2, vpn)""" },
        { """{"marks": {"vpn": {"mark": 1}}, "namespaces": {"kube.system": "x"}}""", """namespaces["kube.system"]: "x" does not name a mark (valid names: vpn)""" },

        // connmark
        { """{"marks": {"vpn": {"mark": 1}}, "connmark": "yes"}""", """connmark: "yes" is not a boolean (expected true or false)""" },
        { """{"marks": {"vpn": {"mark": 1}}, "connmark": 1}""", """connmark: 1 is not a boolean (expected true or false)""" },
    };

    [Theory]
    [MemberData(nameof(InvalidConfigs))]
    public void Rejects_each_invalid_value_with_its_path_and_value(string json, string problem)
    {
        var e = Fails(json);

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal($"invalid fwmark config: {problem}", e.Message);
        Assert.Equal(problem, e.Details);
    }

    [Fact]
    public void Reports_all_problems_at_once()
    {
        var e = Fails("""
            {
              "marks": {
                "vpn": {"mark": 16, "mask": 0},
                "bad name": {"mark": true},
                "gw2": {"mark": "0x11", "mask": "0x10"}
              },
              "defaultMark": "nope",
              "namespaces": {"secure": 7},
              "connmark": "on"
            }
            """);

        string[] problems =
        [
            "marks.vpn.mask: 0 is not allowed (mask must have at least one bit set)",
            """marks["bad name"]: "bad name" is not a valid mark name (expected 1-63 characters of A-Z a-z 0-9 . _ -)""",
            "marks[\"bad name\"].mark: true is not a number or a string (expected 0..4294967295, as a number, decimal string or 0x hex string)",
            """marks.gw2.mark: "0x11" has bits outside the mask (0x11 & ~0x10 = 0x1)""",
            """defaultMark: "nope" does not name a mark (valid names: bad name, gw2, vpn)""",
            "namespaces.secure: 7 is not a string (expected a mark name)",
            """connmark: "on" is not a boolean (expected true or false)""",
        ];
        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal($"invalid fwmark config: {problems[0]} (and 6 more problems)", e.Message);
        Assert.Equal(string.Join('\n', problems), e.Details);
    }

    [Fact]
    public void Says_one_more_problem_in_the_singular()
    {
        var e = Fails("""{"marks": {"vpn": {"mark": -1, "mask": 0}}}""");

        Assert.Equal("invalid fwmark config: marks.vpn.mark: -1 is out of range (expected 0..4294967295) (and 1 more problem)", e.Message);
        Assert.Equal(2, e.Details!.Split('\n').Length);
    }

    [Fact]
    public void A_reference_to_a_broken_mark_is_not_a_second_problem()
    {
        var e = Fails("""{"marks": {"vpn": {"mark": "zz"}}, "defaultMark": "vpn", "namespaces": {"secure": "vpn"}}""");

        Assert.Equal("""invalid fwmark config: marks.vpn.mark: "zz" is not a number (expected decimal digits or 0x followed by hex digits)""", e.Message);
    }

    [Fact]
    public void Parses_a_route_into_Routes_keyed_by_mark_name()
    {
        var config = Parse("""{"marks": {"vpn": {"mark": 16}, "gw2": {"mark": "0x888", "route": {"table": 2184, "gateway": "192.0.2.1"}}}}""");

        var route = Assert.Single(config.Routes);
        Assert.Equal("gw2", route.Key);
        Assert.Equal(2184u, route.Value.Table);
        Assert.Equal(System.Net.IPAddress.Parse("192.0.2.1"), route.Value.Gateway4);
    }

    [Fact]
    public void Route_problems_carry_the_mark_path()
    {
        var e = Fails("""{"marks": {"gw2": {"mark": 1, "route": {"table": 254}}}}""");

        Assert.Equal("invalid fwmark config: marks.gw2.route.table: 254 is the main table (expected 1..4294967295 except 253 (default), 254 (main) and 255 (local))", e.Message);
    }

    [Fact]
    public void Connmark_true_is_set_on_every_mark()
    {
        var config = Parse("""{"marks": {"vpn": {"mark": 16, "mask": 16}}, "connmark": true}""");

        Assert.True(config.Connmark);
        Assert.True(config.Marks["vpn"].Connmark);
        // Its own chain name: Fwmark.Linux.Tests FwmarkRulesetNamesTests.
    }

    [Fact]
    public void Cuts_long_values_in_messages()
    {
        var e = Fails("""{"marks": {"gw2": {"mark": 1, "route": ["192.0.2.1", "2001:db8::1", "a long list that is not an object"]}}}""");

        Assert.Equal("""invalid fwmark config: marks.gw2.route: ["192.0.2.1","2001:db8::1","a long list that is not an ob... is not an object (expected {"table": ..., "gateway": ..., "device": ...})""", e.Message);
    }

    [Fact]
    public void Route_and_top_level_problems_are_reported_together()
    {
        var e = Fails("""{"marks": {"gw2": {"mark": 1, "route": {"table": 254}}}, "connmark": 2}""");

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal(
            "marks.gw2.route.table: 254 is the main table (expected 1..4294967295 except 253 (default), 254 (main) and 255 (local))\n" +
            "connmark: 2 is not a boolean (expected true or false)",
            e.Details);
    }
}
