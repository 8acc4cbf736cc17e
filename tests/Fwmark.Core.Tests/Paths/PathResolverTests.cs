using System.Text.Json.Nodes;
using Fwmark.Cni;
using Fwmark.Core.Paths;

namespace Fwmark.Core.Tests.Paths;

public sealed class PathResolverTests
{
    private const string Netns = "/var/run/netns/pod";

    private static readonly HostLink Bridge = new("cni0", 3, "bridge", null, null);

    [Fact]
    public void A_veth_peer_enslaved_to_a_bridge_is_keyed_as_a_bridge_port()
    {
        var links = new Links().Node(Bridge).Node(new("veth1", 7, "veth", 2, Bridge)).Pod(new("eth0", 2, "veth", 7, null));

        var path = PathResolver.Resolve(Result("cni0", "veth1"), "eth0", Netns, links);

        Assert.Equal(new AttachmentPath(MarkKeying.BridgePort, "veth1", "host veth veth1 is a port of bridge cni0"), path);
    }

    [Fact]
    public void A_veth_peer_without_a_master_is_keyed_as_the_input_interface()
    {
        var links = new Links().Node(new("cali1", 9, "veth", 2, null)).Pod(new("eth0", 2, "veth", 9, null));

        var path = PathResolver.Resolve(Result("cali1"), "eth0", Netns, links);

        Assert.Equal((MarkKeying.InputInterface, "cali1"), (path.Keying, path.HostInterface));
    }

    [Fact]
    public void No_host_side_interface_falls_back_to_addresses_and_says_why()
    {
        var path = PathResolver.Resolve(Result(), "eth0", Netns, new Links());

        Assert.Equal(MarkKeying.Address, path.Keying);
        Assert.Contains("no host-side interface", path.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_side_interface_that_is_not_a_veth_falls_back_to_addresses()
    {
        // macvlan's result may list the master; it is no pod's own interface.
        var links = new Links().Node(new("ens3", 2, "macvlan-master-is-a-nic", null, null));

        var path = PathResolver.Resolve(Result("ens3"), "eth0", Netns, links);

        Assert.Equal(MarkKeying.Address, path.Keying);
        Assert.Contains("ens3", path.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_veth_enslaved_to_something_else_than_a_bridge_falls_back_to_addresses()
    {
        var ovs = new HostLink("ovs-system", 4, "openvswitch", null, null);
        var links = new Links().Node(new("veth1", 7, "veth", 2, ovs)).Pod(new("eth0", 2, "veth", 7, null));

        var path = PathResolver.Resolve(Result("veth1"), "eth0", Netns, links);

        Assert.Equal(MarkKeying.Address, path.Keying);
        Assert.Contains("openvswitch ovs-system", path.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interface_the_kernel_does_not_have_is_refused()
    {
        var e = Assert.Throws<CniException>(() => PathResolver.Resolve(Result("cni0", "veth1"), "eth0", Netns, new Links()));

        Assert.Equal(FwmarkErrorCodes.PathUnknown, e.Code);
        Assert.Contains("cni0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_veth_that_is_not_the_pods_peer_is_refused()
    {
        // Someone else's veth (index 8 points at another pod's interface): marking it would steer that pod.
        var links = new Links().Node(new("veth9", 8, "veth", 5, Bridge)).Pod(new("eth0", 2, "veth", 7, null));

        var e = Assert.Throws<CniException>(() => PathResolver.Resolve(Result("veth9"), "eth0", Netns, links));

        Assert.Equal(FwmarkErrorCodes.PathUnknown, e.Code);
        Assert.Contains("is the peer of eth0", e.Message, StringComparison.Ordinal);
        Assert.Contains("veth9 index 8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pod_interface_must_exist()
    {
        var links = new Links().Node(new("veth1", 7, "veth", 2, Bridge));

        var e = Assert.Throws<CniException>(() => PathResolver.Resolve(Result("veth1"), "eth0", Netns, links));

        Assert.Equal(FwmarkErrorCodes.PathUnknown, e.Code);
        Assert.Contains($"does not exist in the pod's network namespace {Netns}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ipv4_mapped_ipv6_addresses_are_ipv4()
    {
        var result = CniResult.Parse(JsonNode.Parse("""{"cniVersion":"1.0.0","ips":[{"address":"::ffff:10.88.0.6/128"}]}"""), "1.0.0");

        Assert.Equal([System.Net.IPAddress.Parse("10.88.0.6")], result.AddressesOf("eth0"));
    }

    /// <summary>A bridge-plugin-style result: host-side interfaces without sandbox, then eth0 in the pod.</summary>
    private static CniResult Result(params string[] hostSide)
    {
        var interfaces = new JsonArray([.. hostSide.Select(n => (JsonNode)new JsonObject { ["name"] = n })]);
        interfaces.Add(new JsonObject { ["name"] = "eth0", ["sandbox"] = Netns });
        var json = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["interfaces"] = interfaces,
            ["ips"] = new JsonArray(new JsonObject { ["address"] = "10.88.0.5/24", ["interface"] = hostSide.Length }),
        };
        return CniResult.Parse(json, "1.0.0");
    }

    private sealed class Links : IHostLinks
    {
        private readonly Dictionary<string, HostLink> _node = [];
        private readonly Dictionary<string, HostLink> _pod = [];

        public Links Node(HostLink link)
        {
            _node[link.Name] = link;
            return this;
        }

        public Links Pod(HostLink link)
        {
            _pod[link.Name] = link;
            return this;
        }

        public HostLink? Find(string name) => _node.GetValueOrDefault(name);

        public HostLink? FindInPod(string netnsPath, string name) => netnsPath == Netns ? _pod.GetValueOrDefault(name) : null;
    }
}
