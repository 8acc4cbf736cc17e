using System.Diagnostics;
using System.Text.RegularExpressions;
using Fwmark.Testbed.Cleanup;
using Fwmark.Testbed.Processes;

namespace Fwmark.Testbed.Namespaces;

/// <summary>
/// A named network namespace (/var/run/netns/NAME). Every command runs through <c>ip netns exec</c> after
/// <see cref="NetnsGuard"/> has checked that the name does not (any longer) point at the host's namespace.
/// </summary>
public sealed partial class Netns
{
    private readonly bool _current;

    private Netns(string name, bool current = false)
    {
        Name = name;
        _current = current;
    }

    public string Name { get; }

    /// <summary>
    /// Variables every command in this namespace gets (a command's own <see cref="CommandSpec.Env"/> wins),
    /// e.g. the node's FWMARK_RUN_DIR, so the plugin, reconcile and the agent of a run share one state
    /// directory that is not the machine's /run/fwmark.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Environment { get; set; } = new Dictionary<string, string?>();

    /// <summary>The path runtimes hand to plugins as CNI_NETNS.</summary>
    public string Path => _current ? "/proc/self/ns/net" : $"/var/run/netns/{Name}";

    /// <summary>Creates a fresh namespace whose deletion is registered on <paramref name="cleanup"/>.</summary>
    public static Netns Create(string name, CleanupStack cleanup)
    {
        if (!ValidName().IsMatch(name))
        {
            throw new ArgumentException($"invalid netns name {name}", nameof(name));
        }

        ProcessRunner.Run(new CommandSpec("ip", "netns", "add", name)).EnsureSuccess();
        var netns = new Netns(name);
        cleanup.Push($"netns {name}", netns.Delete);
        NetnsGuard.EnsureNotInitial(netns.Path);
        NetnsGuard.EnsureFresh(netns);
        // Each namespace a test makes is a node of its own: its plugin lock, attachment records and agent heartbeat
        // live in its own state directory, never in the machine's /run/fwmark, which every other test would share
        // (an agent would then restore the records of another test's node).
        var stateDir = Directory.CreateTempSubdirectory($"{name}-run-").FullName;
        cleanup.Push($"state dir {stateDir}", () => Directory.Delete(stateDir, recursive: true));
        netns.Environment = new Dictionary<string, string?> { [StateDirVariable] = stateDir };
        return netns;
    }

    /// <summary>The plugin's override of its state directory (src/Fwmark/StatePaths.cs).</summary>
    public const string StateDirVariable = "FWMARK_RUN_DIR";

    /// <summary>
    /// The plugin's lock in this namespace's state directory, for tests that drive the dataplane or the routing
    /// in-process (their default is the machine's /run/fwmark/fwmark.lock).
    /// </summary>
    public string LockPath =>
        Environment.TryGetValue(StateDirVariable, out var dir) && dir is not null
            ? System.IO.Path.Combine(dir, "fwmark.lock")
            : throw new InvalidOperationException($"netns {Name} has no state directory of its own");

    /// <summary>
    /// A fresh namespace named <paramref name="prefix"/>-&lt;8 random hex digits&gt;, so tests running at the same
    /// time (also other checkouts' runs on this machine) never share one.
    /// </summary>
    public static Netns CreateUnique(string prefix, CleanupStack cleanup) =>
        Create($"{prefix}-{Guid.NewGuid().ToString("N")[..8]}", cleanup);

    /// <summary>
    /// The namespace this process runs in, for a tool started inside a namespace of its own (the benchmark,
    /// by bench/run.sh): commands run directly, after the guard has checked that it is not the initial one.
    /// </summary>
    public static Netns Current()
    {
        NetnsGuard.EnsureSelfNotInitial();
        return new Netns("self", current: true);
    }

    /// <summary>An existing namespace this code does not own (never deleted by it); still guarded.</summary>
    public static Netns Open(string name)
    {
        var netns = new Netns(name);
        NetnsGuard.EnsureNotInitial(netns.Path);
        return netns;
    }

    public CommandResult Exec(CommandSpec spec)
    {
        Guard();
        return ProcessRunner.Run(Wrap(spec));
    }

    public CommandResult Exec(string file, params string[] args) => Exec(new CommandSpec(file, args));

    /// <summary>Like <see cref="Exec(string, string[])"/> but throws with both streams when the command fails.</summary>
    public CommandResult Run(string file, params string[] args) => Exec(file, args).EnsureSuccess();

    public void Ip(params string[] args) => Run("ip", args);

    public void Sysctl(params string[] assignments) => Run("sysctl", ["-q", "-w", .. assignments]);

    /// <summary>
    /// New namespaces reset IPv6 devconf: turning DAD off before any interface exists makes addresses usable
    /// at once (a tentative address makes the first connect or bind fail, and a forwarded packet waits
    /// seconds for neighbour discovery, which has no source address until then).
    /// </summary>
    public void DisableDad() => Sysctl("net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");

    /// <summary>A fresh namespace (<see cref="CreateUnique"/>) that routes at once: DAD off, loopback up.</summary>
    public static Netns CreateRouter(string prefix, CleanupStack cleanup)
    {
        var netns = CreateUnique(prefix, cleanup);
        netns.DisableDad();
        netns.Ip("link", "set", "lo", "up");
        return netns;
    }

    /// <summary>Loads an nft script (nft -f -) atomically.</summary>
    public void Nft(string script) => Exec(new CommandSpec("nft", "-f", "-") { Stdin = script }).EnsureSuccess();

    /// <summary>Starts a long-running command inside the namespace; the caller stops it by its PID.</summary>
    public BackgroundProcess Start(CommandSpec spec)
    {
        Guard();
        return ProcessRunner.StartBackground(Wrap(spec));
    }

    public override string ToString() => Name;

    private void Guard()
    {
        if (_current)
        {
            NetnsGuard.EnsureSelfNotInitial();
        }
        else
        {
            NetnsGuard.EnsureNotInitial(Path);
        }
    }

    /// <summary>This namespace's <see cref="Environment"/> with <paramref name="spec"/>'s own variables on top (they win).</summary>
    public Dictionary<string, string?> EnvironmentFor(CommandSpec spec)
    {
        var env = new Dictionary<string, string?>(Environment);
        foreach (var (key, value) in spec.Env)
        {
            env[key] = value;
        }

        return env;
    }

    private CommandSpec Wrap(CommandSpec spec)
    {
        var env = EnvironmentFor(spec);
        return _current
            ? spec with { Env = env }
            : spec with { FileName = "ip", Args = ["netns", "exec", Name, spec.FileName, .. spec.Args], Env = env };
    }

    private void Delete()
    {
        // A process left inside would keep the namespace (and its veths) alive after the name is gone.
        // Everything in a namespace this testbed created was started by it.
        var pids = ProcessRunner.Run(new CommandSpec("ip", "netns", "pids", Name));
        foreach (var line in pids.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line, out var pid))
            {
                TryKill(pid);
            }
        }

        ProcessRunner.Run(new CommandSpec("ip", "netns", "delete", Name)).EnsureSuccess();
    }

    private static void TryKill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit(2000);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Exited between listing and kill.
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
    private static partial Regex ValidName();
}
