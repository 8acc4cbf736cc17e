using Fwmark.Cni;
using Fwmark.Core.Config;
using Fwmark.Core.Selection;

namespace Fwmark.Core.Tests.Selection;

public class MarkSelectorTests
{
    // One mark per source, so the winner is visible in the result.
    private static readonly MarkSpec Ann = new("from-annotation", 1, 0xff);
    private static readonly MarkSpec Arg = new("from-arg", 2, 0xff);
    private static readonly MarkSpec Ns = new("from-namespace", 3, 0xff);
    private static readonly MarkSpec Def = new("from-default", 4, 0xff);

    private static PluginConfig ConfigWith(string? defaultMark) => new()
    {
        Marks = new[] { Ann, Arg, Ns, Def }.ToDictionary(m => m.Name),
        Namespaces = new Dictionary<string, string> { ["secure"] = Ns.Name },
        DefaultMark = defaultMark,
    };

    private static PluginConfig Simple => new()
    {
        Marks = new Dictionary<string, MarkSpec> { ["vpn"] = new("vpn", 16, 16), ["gw2"] = new("gw2", 0x888, uint.MaxValue) },
        DefaultMark = "gw2",
    };

    private static CniRequest Request(string? annotation = null, string? argName = null, string? ns = null, string? runtimeConfig = null)
    {
        var args = new Dictionary<string, string> { ["IgnoreUnknown"] = "1", ["K8S_POD_NAME"] = "web" };
        if (argName is not null)
        {
            args["FWMARK_NAME"] = argName;
        }

        if (ns is not null)
        {
            args["K8S_POD_NAMESPACE"] = ns;
        }

        runtimeConfig ??= annotation is null ? null : Requests.Annotations($$"""{"other": "x", "cni.fwmark.net/name": "{{annotation}}"}""");
        return Requests.Make(CniCommand.Add, args: args, runtimeConfig: runtimeConfig);
    }

    [Theory]
    //          annotation arg    namespace default  → winner              source
    [InlineData(false, false, false, false, null, null)]
    [InlineData(false, false, false, true, "from-default", "defaultMark")]
    [InlineData(false, false, true, false, "from-namespace", "namespace secure")]
    [InlineData(false, false, true, true, "from-namespace", "namespace secure")]
    [InlineData(false, true, false, false, "from-arg", "CNI_ARGS FWMARK_NAME")]
    [InlineData(false, true, false, true, "from-arg", "CNI_ARGS FWMARK_NAME")]
    [InlineData(false, true, true, false, "from-arg", "CNI_ARGS FWMARK_NAME")]
    [InlineData(false, true, true, true, "from-arg", "CNI_ARGS FWMARK_NAME")]
    [InlineData(true, false, false, false, "from-annotation", "annotation cni.fwmark.net/name")]
    [InlineData(true, false, false, true, "from-annotation", "annotation cni.fwmark.net/name")]
    [InlineData(true, false, true, false, "from-annotation", "annotation cni.fwmark.net/name")]
    [InlineData(true, false, true, true, "from-annotation", "annotation cni.fwmark.net/name")]
    [InlineData(true, true, false, false, "from-annotation", "annotation cni.fwmark.net/name")]
    [InlineData(true, true, false, true, "from-annotation", "annotation cni.fwmark.net/name")]
    [InlineData(true, true, true, false, "from-annotation", "annotation cni.fwmark.net/name")]
    [InlineData(true, true, true, true, "from-annotation", "annotation cni.fwmark.net/name")]
    public void First_source_present_wins(bool annotation, bool arg, bool ns, bool def, string? expectedMark, string? expectedSource)
    {
        var config = ConfigWith(def ? Def.Name : null);
        var request = Request(
            annotation: annotation ? Ann.Name : null,
            argName: arg ? Arg.Name : null,
            ns: ns ? "secure" : null);

        var selection = MarkSelector.Select(config, request);

        Assert.Equal(expectedMark, selection?.Mark.Name);
        Assert.Equal(expectedSource, selection?.Source);
        if (selection is not null)
        {
            Assert.Same(config.Marks[expectedMark!], selection.Mark);
        }
    }

    [Fact]
    public void A_namespace_without_an_entry_falls_through_to_the_default()
    {
        var selection = MarkSelector.Select(ConfigWith(Def.Name), Request(ns: "default"));

        Assert.Equal(new MarkSelection(Def, "defaultMark"), selection);
    }

    [Theory]
    [InlineData(null)] // no runtimeConfig at all (podman)
    [InlineData("""{"portMappings": []}""")] // runtimeConfig without annotations
    [InlineData("""{"io.kubernetes.cri.pod-annotations": null}""")] // Go nil map
    [InlineData("""{"io.kubernetes.cri.pod-annotations": {}}""")]
    [InlineData("""{"io.kubernetes.cri.pod-annotations": {"cni.fwmark.net/other": "vpn"}}""")]
    public void Runtime_config_without_the_annotation_falls_through(string? runtimeConfig)
    {
        var selection = MarkSelector.Select(Simple, Requests.Make(CniCommand.Add, runtimeConfig: runtimeConfig));

        Assert.Equal(new MarkSelection(Simple.Marks["gw2"], "defaultMark"), selection);
    }

    [Theory]
    [InlineData("vpm", null, "unknown mark name \"vpm\" from annotation cni.fwmark.net/name; valid names: gw2, vpn")]
    [InlineData(null, "vpm", "unknown mark name \"vpm\" from CNI_ARGS FWMARK_NAME; valid names: gw2, vpn")]
    [InlineData("VPN", null, "unknown mark name \"VPN\" from annotation cni.fwmark.net/name; valid names: gw2, vpn")]
    [InlineData("", "vpn", "unknown mark name \"\" from annotation cni.fwmark.net/name; valid names: gw2, vpn")]
    [InlineData(null, "", "unknown mark name \"\" from CNI_ARGS FWMARK_NAME; valid names: gw2, vpn")]
    public void An_unknown_or_empty_name_fails_closed_instead_of_falling_through(string? annotation, string? argName, string message)
    {
        // Simple has a defaultMark: falling through would silently give the pod the wrong path.
        var e = Assert.Throws<CniException>(() => MarkSelector.Select(Simple, Request(annotation: annotation, argName: argName)));

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void An_unknown_name_from_a_namespace_entry_names_that_source()
    {
        var config = Simple with { Namespaces = new Dictionary<string, string> { ["secure"] = "gone" } };

        var e = Assert.Throws<CniException>(() => MarkSelector.Select(config, Request(ns: "secure")));

        Assert.Equal("unknown mark name \"gone\" from namespace secure; valid names: gw2, vpn", e.Message);
    }

    [Theory]
    [InlineData("5", "mark name 5 from annotation cni.fwmark.net/name is not a string; valid names: gw2, vpn")]
    [InlineData("null", "mark name null from annotation cni.fwmark.net/name is not a string; valid names: gw2, vpn")]
    [InlineData("""["vpn"]""", """mark name ["vpn"] from annotation cni.fwmark.net/name is not a string; valid names: gw2, vpn""")]
    public void A_non_string_annotation_is_a_config_error(string value, string message)
    {
        var runtimeConfig = Requests.Annotations($$"""{"cni.fwmark.net/name": {{value}}}""");

        var e = Assert.Throws<CniException>(() => MarkSelector.Select(Simple, Request(runtimeConfig: runtimeConfig)));

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Malformed_annotations_are_an_error_not_a_silent_fall_through()
    {
        var e = Assert.Throws<CniException>(() =>
            MarkSelector.Select(Simple, Request(runtimeConfig: """{"io.kubernetes.cri.pod-annotations": ["cni.fwmark.net/name=vpn"]}""")));

        Assert.Equal(CniErrorCodes.InvalidNetworkConfig, e.Code);
        Assert.Equal("""runtimeConfig["io.kubernetes.cri.pod-annotations"]: ["cni.fwmark.net/name=vpn"] is not an object (expected annotation name → value)""", e.Message);
    }
}
