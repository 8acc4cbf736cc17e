using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.E2E.Tests.Routing;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Status;

/// <summary>
/// <c>fwmark status</c> on real state: pods ADDed through a real chain in a node namespace of the test's own, real
/// connections from the pods, and the node broken by hand. Everything it shows must come from the kernel and the
/// records: the per-element counters grow by the packets the pod sent, an element deleted by hand shows as missing.
/// </summary>
public sealed class StatusTests(ITestOutputHelper output)
{
    private static readonly AddressFamily[] Families = [AddressFamily.InterNetwork, AddressFamily.InterNetworkV6];

    [Fact]
    public void Json_shows_each_attachment_with_counters_that_grow_with_its_real_traffic_and_the_marks_routing()
    {
        using var bed = RoutedBed.Create();
        var marked = bed.AddMarked("st-vpn");
        var plain = bed.AddPlain("st-plain");

        var before = StatusRun.Json(bed);

        Assert.True((bool)before["table"]!["present"]! && (bool)before["table"]!["counters"]!, before.ToJsonString());
        Assert.False((bool)before["agent"]!["running"]!);
        var attachment = StatusRun.Attachment(before, marked.ContainerId);
        Assert.Equal(RoutedBed.NetworkName, (string?)attachment["network"]);
        Assert.Equal("eth0", (string?)attachment["ifName"]);
        Assert.Equal("default", (string?)attachment["podNamespace"]);
        Assert.Equal("st-vpn", (string?)attachment["podName"]);
        Assert.Equal("vpn", (string?)attachment["mark"]!["name"]);
        Assert.Equal("ok", (string?)attachment["state"]);
        Assert.DoesNotContain(before["attachments"]!.AsArray(), a => (string?)a!["containerId"] == plain.ContainerId);
        // A bridged pod is keyed by its host veth, a port of table bridge fwmark: one key, whatever its addresses.
        var veth = PluginBed.HostVeth(marked);
        var key = Assert.Single(attachment["keys"]!.AsArray())!.AsObject();
        Assert.Equal(("interface", veth, "bridgePort"), ((string?)key["kind"], (string?)key["key"], (string?)key["keying"]));
        Assert.True((bool)key["inKernel"]! && (bool)key["inRecord"]!, key.ToJsonString());

        var mark = StatusRun.Mark(before, "vpn");
        var routing = mark["routing"]!.AsObject();
        Assert.Equal(RoutedBed.Table, (uint)routing["table"]!);
        Assert.True((bool?)routing["deviceUp"] ?? true, routing.ToJsonString());
        Assert.Empty(routing["problems"]!.AsArray());
        foreach (var family in new[] { "ipv4", "ipv6" })
        {
            Assert.True((bool)routing[family]!["rule"]! && (bool)routing[family]!["defaultRoute"]! && (bool)routing[family]!["killSwitch"]!, routing.ToJsonString());
        }

        // Real connections: each is a TCP handshake, a request and the close: at least 3 packets from the pod (4 measured).
        for (var i = 0; i < 3; i++)
        {
            foreach (var family in Families)
            {
                bed.AssertPath(marked, family, EgressPath.Vpn, "while counting");
            }
        }

        var after = StatusRun.Json(bed);
        var counted = StatusRun.Attachment(after, marked.ContainerId);
        var (was, now) = (StatusRun.Key(attachment, veth), StatusRun.Key(counted, veth));
        // 3 connections per family through the one port: at least 18 packets of at least 40 bytes.
        Assert.True(StatusRun.Packets(now) >= StatusRun.Packets(was) + 18, $"{veth}: {StatusRun.Packets(was)} -> {StatusRun.Packets(now)} packets after 6 connections");
        Assert.True(StatusRun.Bytes(now) >= StatusRun.Bytes(was) + (18 * 40), $"{veth}: {StatusRun.Bytes(was)} -> {StatusRun.Bytes(now)} bytes");

        var keys = counted["keys"]!.AsArray().Select(k => k!.AsObject()).ToList();
        Assert.Equal(keys.Aggregate(0UL, (s, k) => s + StatusRun.Packets(k)), StatusRun.Packets(counted));
        Assert.Equal(StatusRun.Packets(counted), StatusRun.Packets(StatusRun.Mark(after, "vpn")));
        Assert.Equal(1, (int)StatusRun.Mark(after, "vpn")["attachments"]!);
    }

    [Fact]
    public void An_address_keyed_attachment_shows_each_address_with_counters_that_grow_with_its_real_traffic()
    {
        using var bed = RoutedBed.Create();
        // A main plugin that reports no host-side interface (as macvlan does): fwmark keys the pod by its addresses.
        var pod = bed.Network.NewPod("st-addr", FwmarkPluginConfig.Annotated("vpn"));
        var bridge = bed.Network.Chain.Invoke("bridge", CniChain.Add, pod.Attachment, null);
        Assert.True(bridge.Succeeded, bridge.Describe());
        var add = bed.Plugin.Fwmark(bed.Network.Chain, bed.Network.Chain.Environment(CniChain.Add, pod.Attachment),
            bed.Network.Chain.Stdin("fwmark", pod.Attachment, WithoutHostInterfaces(bridge.Json!)).ToJsonString());
        Assert.True(add.Succeeded, add.Describe());
        var addresses = Pod.ResultAddresses(bridge.Json!);
        Assert.Equal(2, addresses.Count);

        var before = StatusRun.Attachment(StatusRun.Json(bed), pod.ContainerId);
        Assert.Equal(("ok", "st-addr"), ((string?)before["state"], (string?)before["podName"]));
        Assert.Equal(
            addresses.Select(a => (a.AddressFamily == AddressFamily.InterNetwork ? "ipv4" : "ipv6", a.ToString(), "address", true, true)).Order(),
            before["keys"]!.AsArray().Select(k => ((string)k!["kind"]!, (string)k["key"]!, (string)k["keying"]!, (bool)k["inKernel"]!, (bool)k["inRecord"]!)).Order());
        for (var i = 0; i < 3; i++)
        {
            foreach (var family in Families)
            {
                bed.AssertPath(pod, family, EgressPath.Vpn, "address-keyed, while counting");
            }
        }

        var after = StatusRun.Attachment(StatusRun.Json(bed), pod.ContainerId);
        foreach (var address in addresses.Select(a => a.ToString()))
        {
            var (was, now) = (StatusRun.Packets(StatusRun.Key(before, address)), StatusRun.Packets(StatusRun.Key(after, address)));
            Assert.True(now >= was + 9, $"{address}: {was} -> {now} packets after 3 connections");
        }
    }

    /// <summary>The bridge plugin's result as a plugin without a host side reports it: only the pod's interface.</summary>
    private static JsonObject WithoutHostInterfaces(JsonObject result)
    {
        var copy = result.DeepClone().AsObject();
        var interfaces = copy["interfaces"]!.AsArray().Select(i => i!.AsObject()).ToList();
        var kept = interfaces.Where(i => i["sandbox"] is not null).ToList();
        copy["interfaces"] = new JsonArray([.. kept.Select(i => (JsonNode)i.DeepClone())]);
        foreach (var ip in copy["ips"]!.AsArray().Select(i => i!.AsObject()))
        {
            if (ip["interface"] is { } index)
            {
                ip["interface"] = kept.IndexOf(interfaces[(int)index]);
            }
        }

        return copy;
    }

    [Fact]
    public void Text_shows_the_attachment_row_with_the_kernels_counter_and_the_routing_per_family()
    {
        using var bed = RoutedBed.Create();
        var marked = bed.AddMarked("st-text");
        bed.AssertPath(marked, AddressFamily.InterNetwork, EgressPath.Vpn, "before status");

        var json = StatusRun.Json(bed);
        var text = StatusRun.Run(bed);

        Assert.True(text.Succeeded, text.Describe());
        output.WriteLine(text.Stdout);
        var veth = PluginBed.HostVeth(marked);
        var packets = StatusRun.Packets(StatusRun.Key(StatusRun.Attachment(json, marked.ContainerId), veth));
        Assert.True(packets > 0, json.ToJsonString());
        var row = text.Stdout.Split('\n').SingleOrDefault(l => l.Contains(marked.ContainerId[..12], StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no row for the pod in\n{text.Stdout}");
        var cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // NETWORK POD CONTAINER IFNAME MARK KEY PACKETS BYTES STATE; the key is the host veth with its path. The pod
        // sent nothing in between (IPv6 neighbour discovery could, so the text's count is at least the JSON's).
        Assert.Equal([RoutedBed.NetworkName, "default/st-text", marked.ContainerId[..12], "eth0", "vpn", veth, "(bridge", "port)"], cells[..8]);
        Assert.True(ulong.Parse(cells[8], System.Globalization.CultureInfo.InvariantCulture) >= packets, row);
        Assert.Equal("ok", cells[^1]);
        Assert.Contains("agent: not running", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("mark vpn (0x10/0x10): 1 attachment(s)", text.Stdout, StringComparison.Ordinal);
        Assert.Contains($"  routing: table {RoutedBed.Table}", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("  IPv4: rule yes, default route yes, kill switch yes", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("  IPv6: rule yes, default route yes, kill switch yes", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_without_its_element_an_element_without_a_record_and_a_vpn_that_is_down_are_shown_as_such()
    {
        using var bed = RoutedBed.Create();
        var marked = bed.AddMarked("st-broken");
        var set4 = "pods4-mark-00000010-00000010";
        var veth = PluginBed.HostVeth(marked);
        bed.Node.Run("nft", "delete", "element", "bridge", "fwmark", "ports-mark-00000010-00000010", $"{{ \"{veth}\" }}");
        bed.Node.Run("nft", "add", "element", "inet", "fwmark", set4, "{ 10.88.250.1 comment \"00000000.0000000000000001 hand/by-hand-1/eth9\" }");
        bed.Node.Run("nft", "add", "element", "inet", "fwmark", set4, "{ 10.88.250.2 }");
        bed.Node.Ip("link", "set", bed.Bed.NodeVpnLink, "down");

        var report = StatusRun.Json(bed);
        output.WriteLine(StatusRun.Run(bed).Stdout);

        // The record's one key (its port) is gone: the pod is not marked at all. Its addresses are no keys of it.
        var attachment = StatusRun.Attachment(report, marked.ContainerId);
        Assert.Equal("not-in-kernel", (string?)attachment["state"]);
        var missing = Assert.Single(attachment["keys"]!.AsArray())!.AsObject();
        Assert.Equal((veth, "bridgePort"), ((string?)missing["key"], (string?)missing["keying"]));
        Assert.False((bool)missing["inKernel"]!);
        Assert.True((bool)missing["inRecord"]!);
        Assert.Null(missing["packets"]);
        Assert.Null(attachment["packets"]);

        var tagged = StatusRun.Attachment(report, "by-hand-1");
        Assert.Equal(("no-record", "hand", "eth9"), ((string?)tagged["state"], (string?)tagged["network"], (string?)tagged["ifName"]));
        Assert.Null(tagged["podName"]);
        // An address key has its own counter too (nothing was sent from 10.88.250.1: 0, not null).
        var address = StatusRun.Key(tagged, "10.88.250.1");
        Assert.Equal(("ipv4", "address", 0UL), ((string?)address["kind"], (string?)address["keying"], StatusRun.Packets(address)));
        var untagged = report["attachments"]!.AsArray().Select(a => a!.AsObject())
            .Single(a => a["keys"]!.AsArray().Any(k => (string?)k!["key"] == "10.88.250.2"));
        Assert.Equal("no-record", (string?)untagged["state"]);
        Assert.Null(untagged["containerId"]);
        Assert.Equal(3, (int)StatusRun.Mark(report, "vpn")["attachments"]!);

        var routing = StatusRun.Mark(report, "vpn")["routing"]!.AsObject();
        if (routing["device"] is not null)
        {
            Assert.False((bool)routing["deviceUp"]!, routing.ToJsonString());
        }

        // The kernel flushed the routes through the device; the kill switch is what is left.
        Assert.False((bool)routing["ipv4"]!["defaultRoute"]!, routing.ToJsonString());
        Assert.True((bool)routing["ipv4"]!["killSwitch"]!, routing.ToJsonString());
        Assert.NotEmpty(routing["problems"]!.AsArray());
    }

    [Fact]
    public void Prometheus_output_is_valid_text_format_with_the_same_counters_as_json()
    {
        using var bed = RoutedBed.Create();
        var marked = bed.AddMarked("st-prom");
        bed.AssertPath(marked, AddressFamily.InterNetwork, EgressPath.Vpn, "before status");

        var json = StatusRun.Json(bed);
        var result = StatusRun.Run(bed, "--prometheus");

        Assert.True(result.Succeeded, result.Describe());
        var metrics = PrometheusText.Parse(result.Stdout);
        Assert.Equal("counter", metrics.Families["fwmark_attachment_packets_total"].Type);
        Assert.Equal("gauge", metrics.Families["fwmark_agent_running"].Type);
        var sample = metrics.Single("fwmark_attachment_packets_total", ("container", marked.ContainerId));
        Assert.Equal(
            [("network", RoutedBed.NetworkName), ("ifname", "eth0"), ("pod_namespace", "default"), ("pod_name", "st-prom"), ("mark", "vpn")],
            new[] { "network", "ifname", "pod_namespace", "pod_name", "mark" }.Select(l => (l, sample.Label(l))));
        // IPv6 neighbour discovery may add a packet between the two runs; IPv4 alone cannot.
        Assert.True(sample.Value >= StatusRun.Packets(StatusRun.Attachment(json, marked.ContainerId)), result.Stdout);
        Assert.Equal(1, metrics.Single("fwmark_mark_kill_switch_present", ("mark", "vpn"), ("family", "ipv4")).Value);
        Assert.Equal(1, metrics.Single("fwmark_mark_rule_present", ("mark", "vpn"), ("family", "ipv6")).Value);
        Assert.Equal(0, metrics.Single("fwmark_agent_running").Value);
        Assert.Equal(1, metrics.Single("fwmark_table_present").Value);
    }
}
