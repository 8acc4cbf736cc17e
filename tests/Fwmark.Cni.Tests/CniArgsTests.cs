namespace Fwmark.Cni.Tests;

public class CniArgsTests
{
    /// <summary>Input, then the expected pairs written as "K=V" joined by '|' in key order ("" = none).</summary>
    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData(";;;", "")]
    [InlineData("A=1", "A=1")]
    [InlineData("B=2;A=1", "A=1|B=2")]
    [InlineData(";A=1;;B=2;", "A=1|B=2")]
    [InlineData("A=x=y==", "A=x=y==")]
    [InlineData("FLAG;A=1;ALSO_FLAG", "A=1")]
    [InlineData("key=1;KEY=2", "KEY=2|key=1")]
    [InlineData("A=1;A=2", "A=2")]
    [InlineData("=orphan;A=", "A=")]
    [InlineData(" A = 1 ", " A = 1 ")]
    [InlineData("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;FWMARK_NAME=vpn",
        "FWMARK_NAME=vpn|IgnoreUnknown=1|K8S_POD_NAME=web|K8S_POD_NAMESPACE=default")]
    public void Parses_leniently(string? text, string expected)
    {
        var args = CniArgs.Parse(text);

        Assert.Equal(expected, string.Join('|', args.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key}={a.Value}")));
    }

    [Fact]
    public void Keys_are_case_sensitive_on_lookup()
    {
        var args = CniArgs.Parse("FWMARK_NAME=vpn");

        Assert.False(args.ContainsKey("fwmark_name"));
        Assert.Equal("vpn", args["FWMARK_NAME"]);
    }

    [Theory]
    [InlineData("ADD")]
    [InlineData("DEL")]
    [InlineData("CHECK")]
    public void Reach_the_plugin_and_never_fail_the_call(string verb)
    {
        var env = Invocation.Env(verb);
        env["CNI_ARGS"] = "garbage;;=;FWMARK_NAME=gw2;K8S_POD_NAMESPACE=secure;X=a=b";

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0", Fixtures.Node(Fixtures.ContainerdPrevResult110)));

        var args = outcome.Plugin.Single(Enum.Parse<CniCommand>(verb, ignoreCase: true)).Args;
        Assert.Equal(3, args.Count);
        Assert.Equal("gw2", args["FWMARK_NAME"]);
        Assert.Equal("secure", args["K8S_POD_NAMESPACE"]);
        Assert.Equal("a=b", args["X"]);
    }

    [Fact]
    public void Absent_cni_args_give_an_empty_map()
    {
        var env = Invocation.Env("ADD");
        env.Remove("CNI_ARGS");

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0", Fixtures.Node(Fixtures.ContainerdPrevResult110)));

        Assert.Empty(outcome.Plugin.Single(CniCommand.Add).Args);
    }
}
