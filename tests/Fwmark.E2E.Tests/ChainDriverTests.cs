using System.Text.Json.Nodes;
using Fwmark.Testbed;
using Fwmark.Testbed.Cleanup;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.E2E.Tests;

/// <summary>
/// The hand-driven runtime is only a fair stand-in for libcni if it calls plugins the same way: checked
/// here with two recording plugins (shell scripts that save their environment and stdin).
/// </summary>
public sealed class ChainDriverTests : IDisposable
{
    private const string AnnotationsCap = FwmarkPluginConfig.AnnotationsCapability;
    private readonly CleanupStack _cleanup = new();
    private readonly string _dir;
    private readonly Netns _node;
    private readonly CniChain _chain;

    public ChainDriverTests()
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        _dir = Directory.CreateTempSubdirectory($"{NodeTestbed.NamePrefix}{id}-").FullName;
        _cleanup.Push($"dir {_dir}", () => Directory.Delete(_dir, recursive: true));
        _node = Netns.Create($"{NodeTestbed.NamePrefix}{id}-drv", _cleanup);
        foreach (var name in new[] { "rec-a", "rec-b" })
        {
            WriteRecorder(name);
        }

        var conflist = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = "drv",
            ["plugins"] = new JsonArray
            {
                new JsonObject { ["type"] = "rec-a", ["capabilities"] = new JsonObject { ["portMappings"] = true, [AnnotationsCap] = false }, ["own"] = 1 },
                new JsonObject { ["type"] = "rec-b", ["capabilities"] = new JsonObject { [AnnotationsCap] = true } },
            },
        };
        _chain = new CniChain(_node, conflist.ToJsonString(), ["/nonexistent", _dir]);
    }

    private CniAttachment Attachment => new("cid1", "/var/run/netns/x", "eth1")
    {
        CniArgs = "IgnoreUnknown=1;K8S_POD_NAME=p",
        CapabilityArgs = new Dictionary<string, JsonNode?>
        {
            [AnnotationsCap] = new JsonObject { ["k"] = "v" },
            ["portMappings"] = new JsonArray(new JsonObject { ["hostPort"] = 80 }),
            ["bandwidth"] = new JsonObject(),
        },
    };

    [Fact]
    public void Add_runs_in_order_in_the_node_namespace_chaining_results_and_filtering_capabilities()
    {
        var add = _chain.RunAdd(Attachment);

        Assert.True(add.Succeeded, add.Describe());
        var (a, b) = (Recorded(0), Recorded(1));
        Assert.Equal("rec-a", a.Stdin["type"]?.GetValue<string>());
        Assert.Equal("rec-b", b.Stdin["type"]?.GetValue<string>());
        Assert.Null(a.Stdin["prevResult"]);
        Assert.Equal("rec-a", b.Stdin["prevResult"]?["by"]?.GetValue<string>());
        Assert.Equal("rec-b", add.Result?["by"]?.GetValue<string>());
        Assert.Equal(["portMappings"], Keys(a.Stdin["runtimeConfig"]));
        Assert.Equal([AnnotationsCap], Keys(b.Stdin["runtimeConfig"]));
        Assert.Equal(1, a.Stdin["own"]?.GetValue<int>());
        Assert.All(new[] { a, b }, r =>
        {
            Assert.Equal("1.0.0", r.Stdin["cniVersion"]?.GetValue<string>());
            Assert.Equal("drv", r.Stdin["name"]?.GetValue<string>());
            Assert.Equal("ADD", r.Env["CNI_COMMAND"]);
            Assert.Equal("cid1", r.Env["CNI_CONTAINERID"]);
            Assert.Equal("/var/run/netns/x", r.Env["CNI_NETNS"]);
            Assert.Equal("eth1", r.Env["CNI_IFNAME"]);
            Assert.Equal("IgnoreUnknown=1;K8S_POD_NAME=p", r.Env["CNI_ARGS"]);
            Assert.Equal($"/nonexistent:{_dir}", r.Env["CNI_PATH"]);
            Assert.Equal(6, r.Env.Count);
            Assert.Equal($"net:[{NetnsId.Of(_node.Path).Inode}]", r.Netns);
        });
    }

    [Fact]
    public void Del_runs_in_reverse_with_the_given_prevResult_or_none()
    {
        var prev = new JsonObject { ["cniVersion"] = "1.0.0", ["by"] = "final" };

        Assert.True(_chain.RunDel(Attachment, prev).Succeeded);
        Assert.True(_chain.RunDel(Attachment, null).Succeeded);

        var calls = Enumerable.Range(0, 4).Select(Recorded).ToList();
        Assert.Equal(["rec-b", "rec-a", "rec-b", "rec-a"], calls.Select(c => c.Stdin["type"]?.GetValue<string>()));
        Assert.All(calls, c => Assert.Equal("DEL", c.Env["CNI_COMMAND"]));
        Assert.All(calls[..2], c => Assert.Equal("final", c.Stdin["prevResult"]?["by"]?.GetValue<string>()));
        Assert.All(calls[2..], c => Assert.Null(c.Stdin["prevResult"]));
    }

    [Fact]
    public void Gc_sends_the_valid_attachments_without_container_variables()
    {
        Assert.True(_chain.RunGc([("cid1", "eth0")]).Succeeded);

        var gc = Recorded(0);
        Assert.Equal("GC", gc.Env["CNI_COMMAND"]);
        Assert.Equal("", gc.Env["CNI_CONTAINERID"]);
        Assert.Equal("cid1", gc.Stdin["cni.dev/valid-attachments"]?[0]?["containerID"]?.GetValue<string>());
        Assert.Equal("eth0", gc.Stdin["cni.dev/valid-attachments"]?[0]?["ifname"]?.GetValue<string>());
        Assert.Null(gc.Stdin["runtimeConfig"]);
    }

    public void Dispose() => _cleanup.Dispose();

    private static List<string> Keys(JsonNode? node) => [.. node?.AsObject().Select(kv => kv.Key) ?? []];

    /// <summary>The n-th plugin call, in the order the calls happened.</summary>
    private Recording Recorded(int n)
    {
        var file = Directory.GetFiles(_dir, "*.call").Order(StringComparer.Ordinal).ElementAt(n);
        var parts = File.ReadAllText(file).Split("\n--\n");
        var env = parts[0].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        return new Recording(env, JsonNode.Parse(parts[1])!.AsObject(), parts[2].Trim());
    }

    private void WriteRecorder(string name)
    {
        // Saves CNI_* env, stdin and its netns into a numbered file, answers ADD with {"by": NAME}.
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, $$"""
            #!/bin/sh
            out={{_dir}}/$(date +%s%N)-{{name}}.call
            { env | grep '^CNI_'; echo '--'; cat; echo; echo '--'; readlink /proc/self/ns/net; } > "$out"
            [ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion": "1.0.0", "by": "{{name}}"}'
            exit 0

            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private sealed record Recording(Dictionary<string, string> Env, JsonObject Stdin, string Netns);
}
