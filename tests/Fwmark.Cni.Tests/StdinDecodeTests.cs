using System.Text;
using System.Text.Json.Nodes;

namespace Fwmark.Cni.Tests;

/// <summary>stdin → request: JSON shape (code 6), network name (code 7), runtimeConfig, GC keep-lists.</summary>
public class StdinDecodeTests
{
    [Theory]
    [InlineData("{\"cniVersion\":\"1.0.0\",", "failed to decode network config: ")]
    [InlineData("not json", "failed to decode network config: ")]
    [InlineData("{\"a\":1} trailing", "failed to decode network config: ")]
    [InlineData("", "failed to decode network config: stdin is empty")]
    [InlineData(" \n", "failed to decode network config: stdin is empty")]
    [InlineData("[]", "failed to decode network config: expected a JSON object, got array")]
    [InlineData("\"text\"", "failed to decode network config: expected a JSON object, got string")]
    [InlineData("null", "failed to decode network config: expected a JSON object, got null")]
    public void Stdin_that_is_not_a_json_object_is_code_6(string stdin, string messageStart)
    {
        foreach (var verb in new[] { "ADD", "DEL", "CHECK", "GC", "STATUS" })
        {
            var outcome = Invocation.Run(Invocation.Env(verb), stdin);

            var message = outcome.ErrorMessage(CniErrorCodes.DecodeFailure);
            Assert.StartsWith(messageStart, message);
            Assert.True(message.Length > "failed to decode network config: ".Length, "the cause must be given");
            Assert.Equal("1.1.0", (string)outcome.StdoutJson["cniVersion"]!);
            Assert.Empty(outcome.Plugin.Calls);
        }
    }

    [Fact]
    public void Duplicate_keys_are_refused_rather_than_guessed()
    {
        var outcome = Invocation.Run(Invocation.Env("DEL"), """{"cniVersion":"1.0.0","name":"a","name":"b"}""");

        Assert.StartsWith("failed to decode network config: ", outcome.ErrorMessage(CniErrorCodes.DecodeFailure));
    }

    [Fact]
    public void A_byte_order_mark_is_tolerated()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(Invocation.Config("1.0.0").ToJsonString())).ToArray();

        var outcome = Invocation.Run(Invocation.Env("DEL"), new MemoryStream(bytes));

        outcome.AssertSilentSuccess();
    }

    [Fact]
    public void Empty_stdin_stream_is_an_error_not_a_hang()
    {
        var outcome = Invocation.Run(Invocation.Env("ADD"), Stream.Null);

        Assert.Equal("failed to decode network config: stdin is empty", outcome.ErrorMessage(CniErrorCodes.DecodeFailure));
    }

    [Fact]
    public void Large_stdin_is_read_in_full()
    {
        var config = Invocation.Config("1.0.0", Fixtures.Node(Fixtures.PodmanPrevResult040));
        config["x-padding"] = new string('p', 8 << 20);

        var outcome = Invocation.Run(Invocation.Env("ADD"), config);

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(8 << 20, ((string)outcome.Plugin.Single(CniCommand.Add).Config["x-padding"]!).Length);
    }

    [Theory]
    [InlineData(null, "failed to validate network config: missing network name")]
    [InlineData("", "failed to validate network config: missing network name")]
    [InlineData(42, "failed to validate network config: network name must be a string, got number")]
    [InlineData(true, "failed to validate network config: network name must be a string, got boolean")]
    [InlineData("my net", "failed to validate network config: network name \"my net\" is invalid: may only contain letters, digits, '_', '.' and '-'")]
    [InlineData("../etc", "failed to validate network config: network name \"../etc\" is invalid: must start with a letter or digit")]
    public void Network_name_is_required_for_every_verb_but_version(object? name, string message)
    {
        foreach (var verb in new[] { "ADD", "DEL", "CHECK", "GC", "STATUS" })
        {
            var config = Invocation.Config("1.1.0");
            config["name"] = name switch
            {
                null => null,
                string s => s,
                int i => i,
                bool b => b,
                _ => throw new ArgumentException("unexpected theory value"),
            };
            if (name is null)
            {
                config.Remove("name");
            }

            var outcome = Invocation.Run(Invocation.Env(verb), config);

            Assert.Equal(message, outcome.ErrorMessage(CniErrorCodes.InvalidNetworkConfig));
            Assert.Empty(outcome.Plugin.Calls);
        }
    }

    [Fact]
    public void The_whole_stdin_object_reaches_the_plugin()
    {
        var outcome = Invocation.Run(Invocation.Env("DEL"), Invocation.Config("1.0.0"));

        var request = outcome.Plugin.Single(CniCommand.Del);
        Assert.Equal(16, (int)request.Config["marks"]!["vpn"]!["mark"]!);
        Assert.Equal("fwmark", (string)request.Config["type"]!);
    }

    [Theory]
    [InlineData("\"text\"", "prevResult: must be a JSON object, got string")]
    [InlineData("[]", "prevResult: must be a JSON object, got array")]
    [InlineData("""{"cniVersion":"0.2.0","ip4":{"ip":"10.1.0.2/24"}}""", "prevResult: cniVersion: \"0.2.0\" is not supported (plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0)")]
    [InlineData("""{"cniVersion":7}""", "prevResult: cniVersion: must be a string, got number")]
    [InlineData("""{"interfaces":{}}""", "prevResult: interfaces: must be an array, got object")]
    [InlineData("""{"interfaces":["eth0"]}""", "prevResult: interfaces[0]: must be an object, got string")]
    [InlineData("""{"interfaces":[{"name":3}]}""", "prevResult: interfaces[0].name: must be a string, got number")]
    [InlineData("""{"ips":[{"gateway":"10.1.0.1"}]}""", "prevResult: ips[0].address: missing")]
    [InlineData("""{"ips":[{"address":"10.1.0.2"}]}""", "prevResult: ips[0].address: \"10.1.0.2\" is not an IP address with a prefix length")]
    [InlineData("""{"ips":[{"address":"10.1.0.300/24"}]}""", "prevResult: ips[0].address: \"10.1.0.300/24\" is not an IP address with a prefix length")]
    [InlineData("""{"ips":[{"address":"10.1.0.2/33"}]}""", "prevResult: ips[0].address: \"10.1.0.2/33\" is not an IP address with a prefix length")]
    [InlineData("""{"ips":[{"address":"10/8"}]}""", "prevResult: ips[0].address: \"10/8\" is not an IP address with a prefix length")]
    [InlineData("""{"ips":[{"address":"fe80::1%eth0/64"}]}""", "prevResult: ips[0].address: \"fe80::1%eth0/64\" is not an IP address with a prefix length")]
    [InlineData("""{"ips":[{"address":"[2001:db8::1]/64"}]}""", "prevResult: ips[0].address: \"[2001:db8::1]/64\" is not an IP address with a prefix length")]
    [InlineData("""{"ips":[{"address":"2001:db8::1/129"}]}""", "prevResult: ips[0].address: \"2001:db8::1/129\" is not an IP address with a prefix length")]
    [InlineData("""{"ips":[{"address":"10.1.0.2/24","interface":"2"}]}""", "prevResult: ips[0].interface: must be a non-negative integer, got \"2\"")]
    [InlineData("""{"ips":[{"address":"10.1.0.2/24","interface":-1}]}""", "prevResult: ips[0].interface: must be a non-negative integer, got -1")]
    [InlineData("""{"ips":[{"address":"10.1.0.2/24","interface":1.5}]}""", "prevResult: ips[0].interface: must be a non-negative integer, got 1.5")]
    [InlineData("""{"routes":[42]}""", "prevResult: routes[0]: must be an object, got number")]
    [InlineData("""{"dns":[]}""", "prevResult: dns: must be an object, got array")]
    public void A_prev_result_of_the_wrong_shape_is_code_6_naming_the_field(string prevResult, string cause)
    {
        var config = Invocation.Config("1.0.0", Fixtures.Node(prevResult));

        var outcome = Invocation.Run(Invocation.Env("ADD"), config);

        Assert.Equal($"failed to decode network config: {cause}", outcome.ErrorMessage(CniErrorCodes.DecodeFailure));
        Assert.Empty(outcome.Plugin.Calls);
    }

    [Fact]
    public void A_null_prev_result_is_no_prev_result()
    {
        var config = Invocation.Config("1.0.0");
        config["prevResult"] = null;

        var outcome = Invocation.Run(Invocation.Env("DEL"), config);

        Assert.Null(outcome.Plugin.Single(CniCommand.Del).PrevResult);
    }

    [Fact]
    public void A_prev_result_without_cni_version_is_read_in_the_config_version()
    {
        var prev = Fixtures.Node("""{"ips":[{"address":"10.1.0.2/24"}]}""");

        var outcome = Invocation.Run(Invocation.Env("CHECK"), Invocation.Config("0.4.0", prev));

        var request = outcome.Plugin.Single(CniCommand.Check);
        Assert.Equal("0.4.0", request.PrevResult!.CniVersion);
        Assert.Equal("10.1.0.2", Assert.Single(request.PrevResult.Ips).Address.ToString());
    }

    [Fact]
    public void Runtime_config_is_passed_when_present()
    {
        var config = Invocation.Config("1.0.0");
        config["runtimeConfig"] = new JsonObject
        {
            ["io.kubernetes.cri.pod-annotations"] = new JsonObject { ["cni.fwmark.net/name"] = "vpn" },
        };

        var outcome = Invocation.Run(Invocation.Env("DEL"), config);

        var runtimeConfig = outcome.Plugin.Single(CniCommand.Del).RuntimeConfig;
        Assert.Equal("vpn", (string)runtimeConfig!["io.kubernetes.cri.pod-annotations"]!["cni.fwmark.net/name"]!);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Runtime_config_absent_or_null_is_null(bool explicitNull)
    {
        var config = Invocation.Config("1.0.0");
        if (explicitNull)
        {
            config["runtimeConfig"] = null;
        }

        var outcome = Invocation.Run(Invocation.Env("DEL"), config);

        Assert.Null(outcome.Plugin.Single(CniCommand.Del).RuntimeConfig);
    }

    [Theory]
    [InlineData("""{"cniVersion":"0.2.0","ip4":{"ip":"10.1.0.2/24"}}""")]
    [InlineData("""{"ips":[{"address":"10.1.0.2"}]}""")]
    [InlineData("\"text\"")]
    public void Del_treats_an_unreadable_prev_result_as_absent_so_teardown_never_blocks(string prevResult)
    {
        var config = Invocation.Config("1.0.0", Fixtures.Node(prevResult));
        config["runtimeConfig"] = new JsonArray();

        var outcome = Invocation.Run(Invocation.Env("DEL"), config);

        Assert.Equal(0, outcome.ExitCode);
        var request = outcome.Plugin.Single(CniCommand.Del);
        Assert.Null(request.PrevResult);
        Assert.Null(request.RuntimeConfig);
    }

    [Fact]
    public void Runtime_config_that_is_not_an_object_is_code_6()
    {
        var config = Invocation.Config("1.0.0");
        config["runtimeConfig"] = new JsonArray();

        var outcome = Invocation.Run(Invocation.Env("ADD"), config);

        Assert.Equal("failed to decode network config: runtimeConfig: must be an object, got array", outcome.ErrorMessage(CniErrorCodes.DecodeFailure));
    }
}
