using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Cleanup;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.E2E.Tests.Doctor;

/// <summary>
/// A node for <c>fwmark doctor</c>: a fresh namespace (no rules or routes of ours, rp_filter off) and a scratch
/// root with a conf dir, a bin dir holding the plugin, a run dir and a Cilium state dir. Tests break one thing,
/// run doctor, assert the diagnosis, fix it, and run it again.
/// </summary>
internal sealed class DoctorBed : IDisposable
{
    private readonly CleanupStack _cleanup = new();

    public DoctorBed()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        Root = Path.Combine(Path.GetTempPath(), $"fwd-{id}");
        foreach (var dir in new[] { ConfDir, BinDir, RunDir, CiliumStateDir })
        {
            Directory.CreateDirectory(dir);
        }

        _cleanup.Push($"dir {Root}", () => Directory.Delete(Root, recursive: true));
        Node = Netns.Create($"fwd-{id}-node", _cleanup);
        Node.Sysctl("net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
        Node.Ip("link", "set", "lo", "up");
        File.Copy(Binary, Path.Combine(BinDir, "fwmark"));
    }

    public static string Binary { get; } = FwmarkBinary.FromEnvironment();

    public string Root { get; }

    public string ConfDir => Path.Combine(Root, "net.d");

    public string BinDir => Path.Combine(Root, "bin");

    public string RunDir => Path.Combine(Root, "run");

    public string CiliumStateDir => Path.Combine(Root, "cilium");

    public Netns Node { get; }

    /// <summary>A conflist with a main plugin of <paramref name="mainType"/> and fwmark after it.</summary>
    public static string Conflist(string fwmarkObject, string mainType = "bridge", string name = "net") =>
        $$"""{"cniVersion": "1.0.0", "name": "{{name}}", "plugins": [{"type": "{{mainType}}"}, {{fwmarkObject}}]}""";

    public string Write(string file, string text)
    {
        var path = Path.Combine(ConfDir, file);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>
    /// An interface called <paramref name="name"/>, up with carrier: one end of a veth pair (the peer is
    /// NAME + "p"), since not every kernel has the dummy driver.
    /// </summary>
    public void AddLink(string name)
    {
        Node.Ip("link", "add", name, "type", "veth", "peer", "name", name + "p");
        Node.Ip("link", "set", name + "p", "up");
        Node.Ip("link", "set", name, "up");
    }

    /// <summary>An interface with addresses, up: something routes can point at.</summary>
    public void AddDevice(string name)
    {
        AddLink(name);
        Node.Ip("addr", "add", "192.0.2.2/24", "dev", name);
        Node.Ip("addr", "add", "2001:db8:2::2/64", "dev", name, "nodad");
    }

    /// <summary>What a running agent leaves: its PID (here the test's own, alive) in a fresh heartbeat file.</summary>
    public string Heartbeat(int? pid = null)
    {
        var path = Path.Combine(RunDir, "agent.heartbeat");
        File.WriteAllText(path, $"{pid ?? Environment.ProcessId}\n");
        return path;
    }

    public CommandResult Run(params string[] extra) => Exec(new CommandSpec(Binary, Args(extra)) { DropInheritedPrefixes = ["CNI_"] });

    /// <summary>Doctor's JSON report; fails the test when the output is not the documented shape.</summary>
    public DoctorJson Json(string? wrapper = null)
    {
        var args = Args(["--json"]);
        var spec = wrapper is null ? new CommandSpec(Binary, args) : new CommandSpec(wrapper.Split(' ')[0], [.. wrapper.Split(' ').Skip(1), Binary, .. args]);
        var result = Exec(spec with { DropInheritedPrefixes = ["CNI_"] });
        Assert.False(result.TimedOut, result.Describe());
        Assert.True(result.ExitCode is 0 or 1, $"doctor exit code\n{result.Describe()}");
        var report = JsonNode.Parse(result.Stdout)?.AsObject() ?? throw new InvalidOperationException(result.Describe());
        Assert.Equal(result.ExitCode == 0, (bool)report["healthy"]!);
        return new DoctorJson(report, result);
    }

    public void Dispose() => _cleanup.Dispose();

    private CommandResult Exec(CommandSpec spec) => Node.Exec(spec);

    private string[] Args(string[] extra) =>
        ["doctor", "--conf-dir", ConfDir, "--bin-dir", BinDir, "--run-dir", RunDir, "--cilium-state-dir", CiliumStateDir, .. extra];
}

/// <summary>One doctor --json run.</summary>
internal sealed record DoctorJson(JsonObject Report, CommandResult Result)
{
    public JsonObject Check(string id) =>
        Report["checks"]!.AsArray().Select(c => c!.AsObject()).SingleOrDefault(c => (string?)c["id"] == id)
        ?? throw new InvalidOperationException($"no check {id} in\n{Result.Stdout}");

    public string Status(string id) => (string)Check(id)["status"]!;

    public string Findings(string id) =>
        string.Join("\n", Check(id)["findings"]!.AsArray().Select(f => $"{f!["problem"]} | fix: {f["fix"]}"));

    /// <summary>Asserts the check's status and, for problems, that a finding contains each of <paramref name="words"/>.</summary>
    public void Assert(string id, string status, params string[] words)
    {
        Xunit.Assert.True(Status(id) == status, $"{id}: expected {status}, got {Status(id)}\n{Findings(id)}\nnote: {Check(id)["note"]}\n{Result.Describe()}");
        foreach (var word in words)
        {
            Xunit.Assert.True(Findings(id).Contains(word, StringComparison.Ordinal), $"{id}: no finding mentions \"{word}\"\n{Findings(id)}");
        }
    }
}
