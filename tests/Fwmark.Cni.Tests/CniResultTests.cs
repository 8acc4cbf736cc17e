using System.Net;
using System.Text.Json.Nodes;

namespace Fwmark.Cni.Tests;

public class CniResultTests
{
    private static CniResult Parse(string json, string assumed = "1.0.0") => CniResult.Parse(JsonNode.Parse(json), assumed);

    private static string Text(CniResult result, string version) => result.ToJson(version).ToJsonString();

    [Fact]
    public void Typed_views_follow_the_result()
    {
        var result = Parse(Fixtures.PodmanPrevResult040);

        Assert.Equal("0.4.0", result.CniVersion);
        Assert.Equal(["cni-podman7", "veth4c1d2e3f", "eth0"], result.Interfaces.Select(i => i.Name));
        Assert.Equal(new CniInterface("eth0", "0a:58:0a:58:07:1e", "/run/netns/netns-fixture-0001"), result.Interfaces[2]);
        Assert.Equal(
            [new CniIpConfig(IPAddress.Parse("10.88.7.30"), 24, 2), new CniIpConfig(IPAddress.Parse("2001:db8:7::1e"), 64, 2)],
            result.Ips);
    }

    [Fact]
    public void Addresses_of_the_container_interface_exclude_those_of_other_interfaces()
    {
        var result = Parse("""
            {"interfaces":[{"name":"br0"},{"name":"eth0","sandbox":"/ns"},{"name":"net1","sandbox":"/ns"}],
             "ips":[{"address":"10.0.0.1/24","interface":0},
                    {"address":"10.0.0.5/24","interface":1},
                    {"address":"2001:db8::5/64","interface":1},
                    {"address":"192.0.2.9/24","interface":2},
                    {"address":"10.0.0.5/16","interface":1},
                    {"address":"198.51.100.1/24"},
                    {"address":"203.0.113.1/24","interface":9}]}
            """);

        // 198.51.100.1 names no interface, so it counts for each (fail closed); index 9 names none that exists.
        Assert.Equal([IPAddress.Parse("10.0.0.5"), IPAddress.Parse("2001:db8::5"), IPAddress.Parse("198.51.100.1")], result.AddressesOf("eth0"));
        Assert.Equal([IPAddress.Parse("192.0.2.9"), IPAddress.Parse("198.51.100.1")], result.AddressesOf("net1"));
        Assert.Equal([IPAddress.Parse("198.51.100.1")], result.AddressesOf("eth9"));
    }

    [Fact]
    public void When_no_ip_names_an_interface_every_ip_belongs_to_the_attachment()
    {
        var result = Parse("""
            {"interfaces":[{"name":"eth0"}],
             "ips":[{"address":"10.0.0.5/24"},{"address":"2001:db8::5/64"},{"address":"10.0.0.5/24"}]}
            """);

        Assert.Equal([IPAddress.Parse("10.0.0.5"), IPAddress.Parse("2001:db8::5")], result.AddressesOf("eth0"));
        Assert.Equal([IPAddress.Parse("10.0.0.5"), IPAddress.Parse("2001:db8::5")], result.AddressesOf("whatever"));
    }

    [Fact]
    public void An_empty_result_has_no_addresses()
    {
        Assert.Empty(Parse("{}").AddressesOf("eth0"));
    }

    [Fact]
    public void An_ip_without_an_interface_index_counts_for_every_interface_even_beside_indexed_ones()
    {
        var result = Parse("""{"interfaces":[{"name":"eth0"},{"name":"net1"}],"ips":[{"address":"10.0.0.5/24","interface":0},{"address":"192.0.2.9/24","interface":1},{"address":"2001:db8::5/64"}]}""");

        Assert.Equal([IPAddress.Parse("10.0.0.5"), IPAddress.Parse("2001:db8::5")], result.AddressesOf("eth0"));
        Assert.Equal([IPAddress.Parse("192.0.2.9"), IPAddress.Parse("2001:db8::5")], result.AddressesOf("net1"));
    }

    [Theory]
    [InlineData("""{"dns":{}}""")]
    [InlineData("""{"dns":null}""")]
    [InlineData("""{"dns":{"nameservers":[],"domain":"","search":[],"options":[]}}""")]
    public void Empty_dns_is_left_out(string json)
    {
        Assert.Equal("""{"cniVersion":"1.1.0"}""", Text(Parse(json), "1.1.0"));
    }

    [Fact]
    public void Dns_with_any_content_is_kept()
    {
        Assert.Equal("""{"cniVersion":"1.0.0","dns":{"domain":"cluster.local"}}""", Text(Parse("""{"dns":{"domain":"cluster.local"}}"""), "1.0.0"));
    }

    [Fact]
    public void Ip_version_is_derived_from_the_address_not_copied()
    {
        var result = Parse("""{"cniVersion":"0.3.1","ips":[{"version":"6","address":"10.0.0.5/24"},{"address":"::ffff:10.0.0.6/120"},{"address":"2001:db8::7/64","version":"4"}]}""");

        Assert.Equal(
            """{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.5/24"},{"version":"4","address":"::ffff:10.0.0.6/120"},{"version":"6","address":"2001:db8::7/64"}]}""",
            Text(result, "0.3.1"));
    }

    [Fact]
    public void Unknown_fields_survive_at_every_level_and_cni_version_comes_first()
    {
        var result = Parse("""
            {"x-top":1,"ips":[{"address":"10.0.0.5/24","x-ip":"a"}],"cniVersion":"1.1.0",
             "interfaces":[{"name":"eth0","x-if":[1]}],"routes":[{"dst":"0.0.0.0/0","x-route":null}]}
            """);

        Assert.Equal(
            """{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","x-if":[1]}],"ips":[{"address":"10.0.0.5/24","x-ip":"a"}],"routes":[{"dst":"0.0.0.0/0","x-route":null}],"x-top":1}""",
            Text(result, "1.0.0"));
    }

    [Fact]
    public void Each_conversion_is_a_fresh_copy()
    {
        var result = Parse(Fixtures.ContainerdPrevResult110);
        var first = result.ToJson("1.1.0");
        first["ips"]!.AsArray().Clear();
        first["x-fixture"] = "changed";

        Assert.Equal(2, result.ToJson("1.1.0")["ips"]!.AsArray().Count);
        Assert.True((bool)result.ToJson("1.1.0")["x-fixture"]!["kept"]!);
    }

    [Fact]
    public void The_parsed_json_is_detached_from_the_callers_tree()
    {
        var node = JsonNode.Parse(Fixtures.PodmanPrevResult040)!;
        var result = CniResult.Parse(node, "0.4.0");
        node["ips"]!.AsArray().Clear();

        Assert.Equal(2, result.ToJson("0.4.0")["ips"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("0.2.0")]
    [InlineData("1.2.0")]
    [InlineData("")]
    public void Converting_to_an_unsupported_version_is_a_programming_error(string version)
    {
        Assert.Throws<ArgumentException>(() => Parse("{}").ToJson(version));
    }

    [Fact]
    public void A_result_claiming_an_unsupported_version_is_refused()
    {
        var error = Assert.Throws<FormatException>(() => Parse("""{"cniVersion":"0.2.0"}"""));
        Assert.StartsWith("cniVersion: \"0.2.0\" is not supported", error.Message);
    }
}
