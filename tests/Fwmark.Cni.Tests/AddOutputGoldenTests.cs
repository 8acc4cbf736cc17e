namespace Fwmark.Cni.Tests;

/// <summary>ADD prints prevResult re-encoded at the config's cniVersion; compared byte for byte.</summary>
public class AddOutputGoldenTests
{
    [Theory]
    [InlineData("0.3.0", """{"cniVersion":"0.3.0","interfaces":[{"name":"cni-podman7","mac":"0a:58:0a:58:07:01"},{"name":"veth4c1d2e3f","mac":"0a:58:0a:58:07:02"},{"name":"eth0","mac":"0a:58:0a:58:07:1e","sandbox":"/run/netns/netns-fixture-0001"}],"ips":[{"version":"4","interface":2,"address":"10.88.7.30/24","gateway":"10.88.7.1"},{"version":"6","interface":2,"address":"2001:db8:7::1e/64","gateway":"2001:db8:7::1"}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}],"dns":{"nameservers":["10.88.7.1"],"search":["dns.podman"]}}""")]
    [InlineData("0.3.1", """{"cniVersion":"0.3.1","interfaces":[{"name":"cni-podman7","mac":"0a:58:0a:58:07:01"},{"name":"veth4c1d2e3f","mac":"0a:58:0a:58:07:02"},{"name":"eth0","mac":"0a:58:0a:58:07:1e","sandbox":"/run/netns/netns-fixture-0001"}],"ips":[{"version":"4","interface":2,"address":"10.88.7.30/24","gateway":"10.88.7.1"},{"version":"6","interface":2,"address":"2001:db8:7::1e/64","gateway":"2001:db8:7::1"}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}],"dns":{"nameservers":["10.88.7.1"],"search":["dns.podman"]}}""")]
    [InlineData("0.4.0", """{"cniVersion":"0.4.0","interfaces":[{"name":"cni-podman7","mac":"0a:58:0a:58:07:01"},{"name":"veth4c1d2e3f","mac":"0a:58:0a:58:07:02"},{"name":"eth0","mac":"0a:58:0a:58:07:1e","sandbox":"/run/netns/netns-fixture-0001"}],"ips":[{"version":"4","interface":2,"address":"10.88.7.30/24","gateway":"10.88.7.1"},{"version":"6","interface":2,"address":"2001:db8:7::1e/64","gateway":"2001:db8:7::1"}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}],"dns":{"nameservers":["10.88.7.1"],"search":["dns.podman"]}}""")]
    [InlineData("1.0.0", """{"cniVersion":"1.0.0","interfaces":[{"name":"cni-podman7","mac":"0a:58:0a:58:07:01"},{"name":"veth4c1d2e3f","mac":"0a:58:0a:58:07:02"},{"name":"eth0","mac":"0a:58:0a:58:07:1e","sandbox":"/run/netns/netns-fixture-0001"}],"ips":[{"interface":2,"address":"10.88.7.30/24","gateway":"10.88.7.1"},{"interface":2,"address":"2001:db8:7::1e/64","gateway":"2001:db8:7::1"}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}],"dns":{"nameservers":["10.88.7.1"],"search":["dns.podman"]}}""")]
    [InlineData("1.1.0", """{"cniVersion":"1.1.0","interfaces":[{"name":"cni-podman7","mac":"0a:58:0a:58:07:01"},{"name":"veth4c1d2e3f","mac":"0a:58:0a:58:07:02"},{"name":"eth0","mac":"0a:58:0a:58:07:1e","sandbox":"/run/netns/netns-fixture-0001"}],"ips":[{"interface":2,"address":"10.88.7.30/24","gateway":"10.88.7.1"},{"interface":2,"address":"2001:db8:7::1e/64","gateway":"2001:db8:7::1"}],"routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}],"dns":{"nameservers":["10.88.7.1"],"search":["dns.podman"]}}""")]
    public void Podman_040_prev_result_is_printed_in_the_config_version(string version, string golden)
    {
        var outcome = Invocation.Run(Invocation.Env("ADD"), Invocation.Config(version, Fixtures.Node(Fixtures.PodmanPrevResult040)));

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(golden + "\n", outcome.Stdout);
        outcome.Plugin.Single(CniCommand.Add);
    }

    [Theory]
    [InlineData("0.3.0", """{"cniVersion":"0.3.0","interfaces":[{"mac":"9a:10:00:00:00:01","name":"cni0"},{"mac":"9a:10:00:00:00:02","name":"vethb00c4f1e"},{"mac":"9a:10:00:00:00:03","name":"eth0","sandbox":"/var/run/netns/cni-fixture-1111"}],"ips":[{"version":"4","address":"10.244.1.17/24","gateway":"10.244.1.1","interface":2},{"version":"6","address":"2001:db8:244:1::11/64","gateway":"2001:db8:244:1::1","interface":2}],"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"},{"dst":"2001:db8::/32"}],"x-fixture":{"kept":true}}""")]
    [InlineData("0.3.1", """{"cniVersion":"0.3.1","interfaces":[{"mac":"9a:10:00:00:00:01","name":"cni0"},{"mac":"9a:10:00:00:00:02","name":"vethb00c4f1e"},{"mac":"9a:10:00:00:00:03","name":"eth0","sandbox":"/var/run/netns/cni-fixture-1111"}],"ips":[{"version":"4","address":"10.244.1.17/24","gateway":"10.244.1.1","interface":2},{"version":"6","address":"2001:db8:244:1::11/64","gateway":"2001:db8:244:1::1","interface":2}],"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"},{"dst":"2001:db8::/32"}],"x-fixture":{"kept":true}}""")]
    [InlineData("0.4.0", """{"cniVersion":"0.4.0","interfaces":[{"mac":"9a:10:00:00:00:01","name":"cni0"},{"mac":"9a:10:00:00:00:02","name":"vethb00c4f1e"},{"mac":"9a:10:00:00:00:03","name":"eth0","sandbox":"/var/run/netns/cni-fixture-1111"}],"ips":[{"version":"4","address":"10.244.1.17/24","gateway":"10.244.1.1","interface":2},{"version":"6","address":"2001:db8:244:1::11/64","gateway":"2001:db8:244:1::1","interface":2}],"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"},{"dst":"2001:db8::/32"}],"x-fixture":{"kept":true}}""")]
    [InlineData("1.0.0", """{"cniVersion":"1.0.0","interfaces":[{"mac":"9a:10:00:00:00:01","name":"cni0"},{"mac":"9a:10:00:00:00:02","name":"vethb00c4f1e"},{"mac":"9a:10:00:00:00:03","name":"eth0","sandbox":"/var/run/netns/cni-fixture-1111"}],"ips":[{"address":"10.244.1.17/24","gateway":"10.244.1.1","interface":2},{"address":"2001:db8:244:1::11/64","gateway":"2001:db8:244:1::1","interface":2}],"routes":[{"dst":"0.0.0.0/0","gw":"10.244.1.1"},{"dst":"2001:db8::/32"}],"x-fixture":{"kept":true}}""")]
    [InlineData("1.1.0", """{"cniVersion":"1.1.0","interfaces":[{"mac":"9a:10:00:00:00:01","mtu":1450,"name":"cni0"},{"mac":"9a:10:00:00:00:02","mtu":1450,"name":"vethb00c4f1e"},{"mac":"9a:10:00:00:00:03","mtu":1450,"name":"eth0","pciID":"0000:00:05.0","sandbox":"/var/run/netns/cni-fixture-1111","socketPath":"/run/vhost/eth0.sock"}],"ips":[{"address":"10.244.1.17/24","gateway":"10.244.1.1","interface":2},{"address":"2001:db8:244:1::11/64","gateway":"2001:db8:244:1::1","interface":2}],"routes":[{"advmss":1360,"dst":"0.0.0.0/0","gw":"10.244.1.1","mtu":1400,"priority":100,"scope":0,"table":254},{"dst":"2001:db8::/32"}],"x-fixture":{"kept":true}}""")]
    public void Containerd_110_prev_result_is_printed_in_the_config_version(string version, string golden)
    {
        var outcome = Invocation.Run(Invocation.Env("ADD"), Invocation.Config(version, Fixtures.Node(Fixtures.ContainerdPrevResult110)));

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(golden + "\n", outcome.Stdout);
    }

    [Theory]
    [InlineData("0.3.1")]
    [InlineData("1.0.0")]
    public void Add_without_prev_result_that_the_plugin_accepts_prints_an_empty_result(string version)
    {
        var outcome = Invocation.Run(Invocation.Env("ADD"), Invocation.Config(version));

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal($$"""{"cniVersion":"{{version}}"}""" + "\n", outcome.Stdout);
        Assert.Null(outcome.Plugin.Single(CniCommand.Add).PrevResult);
    }

    [Fact]
    public void Add_without_prev_result_that_the_plugin_refuses_prints_only_the_error()
    {
        var plugin = new FakePlugin
        {
            OnCall = _ => throw new CniException(CniErrorCodes.InvalidNetworkConfig, "failed to add attachment: must be called as chained plugin"),
        };

        var outcome = Invocation.Run(Invocation.Env("ADD"), Invocation.Config("1.1.0"), plugin);

        Assert.Equal(
            """{"cniVersion":"1.1.0","code":7,"msg":"failed to add attachment: must be called as chained plugin"}""" + "\n",
            outcome.Stdout);
        Assert.Equal(1, outcome.ExitCode);
    }

    [Fact]
    public void Non_ascii_and_quotes_in_passed_through_fields_are_kept_readable()
    {
        var prev = Fixtures.Node("""{"cniVersion":"1.0.0","ips":[],"x-note":"zürich \"a\" <b>"}""");

        var outcome = Invocation.Run(Invocation.Env("ADD"), Invocation.Config("1.0.0", prev));

        Assert.Equal("""{"cniVersion":"1.0.0","ips":[],"x-note":"zürich \"a\" <b>"}""" + "\n", outcome.Stdout);
    }
}
