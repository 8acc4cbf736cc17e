using System.Text;
using System.Text.Json.Nodes;

namespace Fwmark.Cni.Tests;

/// <summary>What one dispatcher run produced.</summary>
internal sealed record Outcome(int ExitCode, string Stdout, string Stderr, FakePlugin Plugin)
{
    public JsonObject StdoutJson => Assert.IsType<JsonObject>(JsonNode.Parse(Stdout));

    /// <summary>Asserts a CNI error with this code was printed (exit 1, one JSON line) and returns it.</summary>
    public JsonObject AssertError(int code)
    {
        Assert.Equal(1, ExitCode);
        Assert.EndsWith("\n", Stdout);
        Assert.Single(Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var error = StdoutJson;
        Assert.Equal(code, (int)error["code"]!);
        return error;
    }

    public string ErrorMessage(int code) => (string)AssertError(code)["msg"]!;

    public void AssertSilentSuccess()
    {
        Assert.True(ExitCode == 0, $"exit {ExitCode}, stdout: {Stdout}");
        Assert.Equal("", Stdout);
    }
}

/// <summary>Builds runtime-shaped invocations and runs them through <see cref="CniDispatcher.Run"/>.</summary>
internal static class Invocation
{
    public const string ContainerId = "b7f3c2a91e04d5c6";
    public const string Netns = "/var/run/netns/fixture-pod";
    public const string IfName = "eth0";
    public const string Network = "steered";

    /// <summary>What libcni exports for the verb: all six variables, empty where they do not apply.</summary>
    public static Dictionary<string, string?> Env(string verb)
    {
        var perAttachment = verb is "ADD" or "DEL" or "CHECK";
        return new Dictionary<string, string?>
        {
            ["CNI_COMMAND"] = verb,
            ["CNI_CONTAINERID"] = perAttachment ? ContainerId : "",
            ["CNI_NETNS"] = perAttachment ? Netns : "",
            ["CNI_IFNAME"] = perAttachment ? IfName : "",
            ["CNI_ARGS"] = perAttachment ? "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1" : "",
            ["CNI_PATH"] = "/opt/cni/bin",
        };
    }

    /// <summary>A plugin object with the keys a runtime injects; null arguments leave the key out.</summary>
    public static JsonObject Config(string? version, JsonNode? prevResult = null)
    {
        var config = new JsonObject { ["type"] = "fwmark" };
        if (version is not null)
        {
            config["cniVersion"] = version;
        }

        config["name"] = Network;
        config["marks"] = new JsonObject { ["vpn"] = new JsonObject { ["mark"] = 16 } };
        if (prevResult is not null)
        {
            config["prevResult"] = prevResult.DeepClone();
        }

        return config;
    }

    public static Outcome Run(IReadOnlyDictionary<string, string?> env, JsonNode stdin, FakePlugin? plugin = null) =>
        Run(env, stdin.ToJsonString(), plugin);

    public static Outcome Run(IReadOnlyDictionary<string, string?> env, string stdin, FakePlugin? plugin = null) =>
        Run(env, new MemoryStream(Encoding.UTF8.GetBytes(stdin)), plugin);

    public static Outcome Run(IReadOnlyDictionary<string, string?> env, Stream stdin, FakePlugin? plugin = null)
    {
        plugin ??= new FakePlugin();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = CniDispatcher.Run(plugin, env, stdin, stdout, stderr);
        return new Outcome(exit, stdout.ToString(), stderr.ToString(), plugin);
    }
}
