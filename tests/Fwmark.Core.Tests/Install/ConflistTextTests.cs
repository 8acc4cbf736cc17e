using System.Text.Json.Nodes;
using Fwmark.Core.Install;

namespace Fwmark.Core.Tests.Install;

public sealed class ConflistTextTests
{
    private static readonly JsonObject Plugin = FwmarkPluginObject.FromConfigText(Samples.ConfigKeys, "test");

    [Theory]
    [InlineData(Samples.K3sFlannel)]
    [InlineData(Samples.PodmanNetwork)]
    [InlineData(Samples.K3sFlannelWithBandwidth)]
    [InlineData("""{"cniVersion":"1.0.0","name":"c","plugins":[{"type":"bridge"}]}""")]
    public void Upsert_appends_fwmark_last_and_remove_gives_back_the_original_bytes(string text)
    {
        var original = Samples.Bytes(text);
        var edited = ConflistText.Upsert(original, Plugin, "x.conflist");

        var chain = JsonNode.Parse(edited)!["plugins"]!.AsArray();
        var originalChain = JsonNode.Parse(original)!["plugins"]!.AsArray();
        Assert.Equal(originalChain.Count + 1, chain.Count);
        for (var i = 0; i < originalChain.Count; i++)
        {
            Assert.True(JsonNode.DeepEquals(originalChain[i], chain[i]), $"element {i} changed");
        }

        Assert.True(JsonNode.DeepEquals(Plugin, chain[^1]));
        Assert.True(chain[^1]!["capabilities"]!["io.kubernetes.cri.pod-annotations"]!.GetValue<bool>());
        Assert.Equal(original, ConflistText.Remove(edited, "x.conflist"));
    }

    [Fact]
    public void Upsert_is_idempotent_and_replaces_an_older_fwmark_element_in_place()
    {
        var once = ConflistText.Upsert(Samples.Bytes(Samples.K3sFlannel), Plugin, "x");
        Assert.Equal(once, ConflistText.Upsert(once, Plugin, "x"));

        var other = FwmarkPluginObject.FromConfigText("""{"marks": {"gw": {"mark": "0x888"}}, "defaultMark": "gw"}""", "test");
        var replaced = ConflistText.Upsert(once, other, "x");
        var chain = JsonNode.Parse(replaced)!["plugins"]!.AsArray();
        Assert.Equal(3, chain.Count);
        Assert.Equal("gw", chain[2]!["defaultMark"]!.GetValue<string>());
    }

    [Fact]
    public void A_file_without_a_chain_is_refused_with_a_hint()
    {
        var e = Assert.Throws<InstallException>(() => ConflistText.Upsert(Samples.Bytes("""{"cniVersion":"0.4.0","name":"x","type":"bridge"}"""), Plugin, "/etc/cni/net.d/10-x.conf"));
        Assert.Contains("/etc/cni/net.d/10-x.conf", e.Message);
        Assert.Contains("--own-conflist", e.Message);
    }

    [Fact]
    public void The_config_file_is_validated_by_the_plugins_own_parser()
    {
        var e = Assert.Throws<InstallException>(() => FwmarkPluginObject.FromConfigText("""{"marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 254}}}}""", "/etc/fwmark/config.json"));
        Assert.Contains("/etc/fwmark/config.json", e.Message);
        Assert.Contains("table", e.Message);
    }

    [Fact]
    public void Derive_keeps_the_primarys_keys_and_name_and_puts_fwmark_last()
    {
        var derived = JsonNode.Parse(ConflistDeriver.Derive(Samples.Bytes(Samples.K3sFlannelWithBandwidth), "p", Plugin))!;
        Assert.Equal("cbr0", derived["name"]!.GetValue<string>());
        Assert.Equal(["flannel", "portmap", "bandwidth", "fwmark"], derived["plugins"]!.AsArray().Select(p => p!["type"]!.GetValue<string>()));

        // A primary that already holds fwmark (k3s copying an edited --flannel-cni-conf) gets no second one.
        var again = JsonNode.Parse(ConflistDeriver.Derive(ConflistText.Upsert(Samples.Bytes(Samples.K3sFlannel), Plugin, "p"), "p", Plugin))!;
        Assert.Single(again["plugins"]!.AsArray(), p => p!["type"]!.GetValue<string>() == "fwmark");
    }
}
