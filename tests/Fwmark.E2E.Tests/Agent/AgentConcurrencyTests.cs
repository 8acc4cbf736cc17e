using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fwmark.Testbed.Cleanup;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Processes;

namespace Fwmark.E2E.Tests.Agent;

/// <summary>
/// 64 concurrent ADD/DEL (the published plugin exec'd as a runtime does, retried on failure as kubelet
/// retries) while someone flushes the ruleset or deletes the plugin's table over and over and the agent
/// restores it: at the end every attachment that was added and not deleted has exactly one element, with its
/// owner tag, in the plugin's table and in the guard; no deleted attachment left anything behind. Once with
/// address-keyed attachments (prevResult names no host interface), once with bridge ports (each attachment a
/// real veth whose host end is a port of a bridge in the node, keyed by name in `bridge fwmark`, whose
/// deletion joins the faults).
/// </summary>
public sealed partial class AgentConcurrencyTests(ITestOutputHelper output)
{
    private const int Attachments = 64;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Concurrent_add_and_del_beside_repeated_flushes_lose_duplicate_and_leave_nothing(bool bridgePorts)
    {
        using var cleanup = new CleanupStack();
        var runId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
        var node = Netns.Create($"fwe-{runId}-agentc", cleanup);
        var confDir = Directory.CreateTempSubdirectory($"fwe-{runId}-");
        cleanup.Push($"conf dir {confDir}", () => confDir.Delete(recursive: true));
        var binary = FwmarkBinary.FromEnvironment();
        var pods = bridgePorts ? BridgePorts(node, runId, cleanup) : null;
        using var agent = FwmarkAgent.Start(node, binary, confDir.FullName);
        string[][] faults = bridgePorts
            ? [["flush", "ruleset"], ["delete", "table", "inet", "fwmark"], ["delete", "table", "bridge", "fwmark"]]
            : [["flush", "ruleset"], ["delete", "table", "inet", "fwmark"]];

        var flushes = 0;
        using var done = new CancellationTokenSource();
        var flusher = new Thread(() =>
        {
            while (!done.IsCancellationRequested)
            {
                node.Exec("nft", faults[flushes % faults.Length]);
                Interlocked.Increment(ref flushes);
                Thread.Sleep(40);
            }
        });
        flusher.Start();

        var retries = 0;
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, Attachments, new ParallelOptions { MaxDegreeOfParallelism = Attachments }, i =>
        {
            var add = Call(node, binary, "ADD", i, pods, ref retries);
            if (add is not null)
            {
                failures.Add(add);
            }
            else if (i % 2 == 1 && Call(node, binary, "DEL", i, pods, ref retries) is { } del)
            {
                failures.Add(del);
            }
        });
        // Keep flushing a little after the last call, then let the agent restore the last one.
        Thread.Sleep(200);
        done.Cancel();
        flusher.Join();
        AgentBed.WaitUntil(
            () => node.Exec("nft", "list", "table", "inet", "fwmark").Succeeded && (!bridgePorts || node.Exec("nft", "list", "table", "bridge", "fwmark").Succeeded),
            TimeSpan.FromSeconds(3),
            () => $"the agent did not restore the tables after the last flush\n{agent.Output}");
        Thread.Sleep(300);

        output.WriteLine($"{flushes} flushes/deletions during {Attachments} ADDs and {Attachments / 2} DELs; {retries} retried calls");
        Assert.True(failures.IsEmpty, $"calls failed even after retries:\n{string.Join("\n", failures)}\n{agent.Output}");
        Assert.True(flushes >= 5, $"only {flushes} flushes happened during the calls: the test did not test the race");

        var plugin = NftOracle.Elements(node);
        if (pods is not null)
        {
            var expectedPorts = Enumerable.Range(0, Attachments).Where(i => i % 2 == 0).Select(i => (Key: pods[i], Container: ContainerId(i))).ToList();
            var ports = NftOracle.InterfaceElements(node).Where(e => e.Family == "bridge").Select(e => (Key: e.Name, e.Comment)).ToList();
            AssertExactly(expectedPorts, ports, "the plugin's bridge table", agent.Output);
            AssertExactly(expectedPorts, GuardNames(node), "the bridge guard table", agent.Output);
            Assert.True(plugin.Count == 0, $"a bridge port is keyed by name only, yet the plugin's table holds {plugin.Count} address element(s)\n{agent.Output}");
            return;
        }

        var expected = Enumerable.Range(0, Attachments).Where(i => i % 2 == 0)
            .SelectMany(i => AddressesOf(i).Select(a => (Key: a.ToString(), Container: ContainerId(i))))
            .ToList();
        AssertExactly(expected, [.. plugin.Select(e => (e.Address.ToString(), e.Comment))], "the plugin's table", agent.Output);
        AssertExactly(expected, GuardElements(node), "the guard table", agent.Output);
    }

    /// <summary>
    /// One pod namespace per attachment, its eth0 a veth whose host end (returned, by attachment) is a port of one
    /// bridge in the node: what the bridge plugin leaves behind, made by hand so that 64 exist at once.
    /// </summary>
    private static string[] BridgePorts(Netns node, string runId, CleanupStack cleanup)
    {
        var bridge = $"fwc{runId}br";
        node.Ip("link", "add", bridge, "type", "bridge");
        node.Ip("link", "set", bridge, "up");
        var hosts = new string[Attachments];
        for (var i = 0; i < Attachments; i++)
        {
            var pod = Netns.Create($"fwe-{runId}-agentc{i:x2}", cleanup);
            hosts[i] = $"fwc{runId}{i:x2}";
            node.Ip("link", "add", hosts[i], "type", "veth", "peer", "name", "eth0", "netns", pod.Name);
            node.Ip("link", "set", hosts[i], "master", bridge);
        }

        return hosts;
    }

    /// <summary>Keys are addresses or interface names, as text.</summary>
    private static void AssertExactly(List<(string Key, string Container)> expected, List<(string Key, string? Comment)> actual, string where, string log)
    {
        var evidence = $"{where}: {actual.Count} elements\n{log}";
        var duplicated = actual.GroupBy(e => e.Key).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicated.Count == 0, $"duplicated in {where}: {string.Join(", ", duplicated)}\n{evidence}");
        var lost = expected.Where(e => !actual.Any(a => a.Key == e.Key && a.Comment?.Contains($"/{e.Container}/", StringComparison.Ordinal) == true)).ToList();
        Assert.True(lost.Count == 0, $"lost from {where}: {string.Join(", ", lost)}\n{evidence}");
        var leftover = actual.Where(a => !expected.Any(e => e.Key == a.Key)).ToList();
        Assert.True(leftover.Count == 0, $"left over in {where}: {string.Join(", ", leftover)}\n{evidence}");
    }

    /// <summary>From `nft list table` text: nft 1.0.6's JSON output garbles an owned table's flags.</summary>
    private static List<(string Key, string? Comment)> GuardElements(Netns node)
    {
        var text = node.Run("nft", "list", "table", "inet", NftOracle.GuardTable).Stdout;
        return [.. ElementPattern().Matches(text).Select(m => (IPAddress.Parse(m.Groups[1].Value).ToString(), (string?)m.Groups[2].Value))];
    }

    private static List<(string Key, string? Comment)> GuardNames(Netns node)
    {
        var text = node.Run("nft", "list", "table", "bridge", NftOracle.GuardTable).Stdout;
        return [.. NamePattern().Matches(text).Select(m => (m.Groups[1].Value, (string?)m.Groups[2].Value))];
    }

    // The sets count per element: "ADDR counter packets N bytes N comment ..." (docs/cli.md, per-element counters).
    [GeneratedRegex(@"(?<=[{,]\s+)([0-9a-f:.]+)(?: counter packets \d+ bytes \d+)? comment ""([^""]*)""")]
    private static partial Regex ElementPattern();

    // Interface names likewise: "\"NAME\" counter packets N bytes N comment ...".
    [GeneratedRegex(@"(?<=[{,]\s+)""([^""]+)""(?: counter packets \d+ bytes \d+)? comment ""([^""]*)""")]
    private static partial Regex NamePattern();

    private static IReadOnlyList<IPAddress> AddressesOf(int i) => i % 4 == 0
        ? [IPAddress.Parse($"10.77.0.{i + 1}"), IPAddress.Parse($"2001:db8:77::{i + 1:x}")]
        : [IPAddress.Parse($"10.77.0.{i + 1}")];

    private static string ContainerId(int i) => $"agentc{i:x4}";

    /// <summary>One plugin call, retried up to 10 times on failure; null on success, else the last failure.</summary>
    /// <param name="pods">With bridge ports: the host veth of each attachment, its pod namespace named after it.</param>
    private static string? Call(Netns node, string binary, string command, int i, string[]? pods, ref int retries)
    {
        var ips = new JsonArray([.. AddressesOf(i).Select(a => (JsonNode)new JsonObject { ["address"] = $"{a}/{(a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 64 : 24)}" })]);
        var prevResult = new JsonObject { ["cniVersion"] = "1.0.0", ["ips"] = ips };
        var netns = node.Path;
        if (pods is not null)
        {
            netns = $"{node.Path}{i:x2}";
            prevResult["interfaces"] = new JsonArray(new JsonObject { ["name"] = pods[i] }, new JsonObject { ["name"] = "eth0", ["sandbox"] = netns });
            foreach (var ip in ips.OfType<JsonObject>())
            {
                ip["interface"] = 1;
            }
        }

        var config = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = "agentc",
            ["type"] = "fwmark",
            ["marks"] = new JsonObject { ["vpn"] = new JsonObject { ["mark"] = 16, ["mask"] = 16 } },
            ["defaultMark"] = "vpn",
            ["prevResult"] = prevResult,
        };
        var spec = new CommandSpec(binary)
        {
            Env = new Dictionary<string, string?>
            {
                ["CNI_COMMAND"] = command,
                ["CNI_CONTAINERID"] = ContainerId(i),
                ["CNI_NETNS"] = netns,
                ["CNI_IFNAME"] = "eth0",
                ["CNI_PATH"] = "/opt/cni/bin",
            },
            DropInheritedPrefixes = ["CNI_"],
            Stdin = config.ToJsonString(),
        };
        CommandResult? last = null;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            last = node.Exec(spec);
            if (last.Succeeded)
            {
                return null;
            }

            Interlocked.Increment(ref retries);
            Thread.Sleep(20);
        }

        return $"{command} {i}: {last!.Describe()}";
    }
}
