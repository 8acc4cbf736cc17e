using System.Diagnostics;
using System.Net;
using Fwmark.Cri;
using Fwmark.Runtimes.Tests.Infrastructure;
using Fwmark.Testbed;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Processes;

namespace Fwmark.Runtimes.Tests.Containerd;

/// <summary>
/// A node (the testbed's namespaces: node, main and VPN gateways, internet with the echo server) running its own
/// containerd 1.6 inside the node namespace, with this run's root/state/socket and CNI dirs, the pause image
/// built from busybox-static, and the conflist of <see cref="ContainerdConfig.Conflist"/>. Driven only through CRI.
/// One per test class; everything is undone by <see cref="Dispose"/> (sandboxes, daemon by PID, mounts, dirs,
/// namespaces), also when the constructor fails half-way.
/// </summary>
public sealed class ContainerdNode : IDisposable
{
    public const string PauseImage = "localhost/fwmark-pause:1";
    public const string NetworkName = "fwmark-cri";
    public const uint Table = 120;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private readonly ContainerdPaths _paths;
    private readonly List<string> _netnsPaths = [];
    private BackgroundProcess? _daemon;

    public ContainerdNode()
        : this(chainFwmark: true)
    {
    }

    /// <summary>
    /// <paramref name="chainFwmark"/> false: a node as an operator has it before <c>fwmark install</c>, a bin dir
    /// without fwmark and a conflist of bridge, host-local and portmap only.
    /// </summary>
    internal ContainerdNode(bool chainFwmark)
    {
        Prerequisites.Require("containerd", "containerd", "ctr", "containerd-shim-runc-v2");
        Prerequisites.Require("runc", "runc");
        FwmarkBinaryPath = FwmarkBinary.FromEnvironment();
        Bed = NodeTestbed.Create();
        try
        {
            BinDir = CniBinDir.Create(Bed, FwmarkBinaryPath);
            if (!chainFwmark)
            {
                File.Delete(Path.Combine(BinDir, "fwmark"));
            }

            _paths = new ContainerdPaths(Path.Combine(Bed.WorkDir, "containerd"));
            Directory.CreateDirectory(_paths.Dir);
            Bed.Cleanup.Push($"containerd dir {_paths.Dir}", () => Mounts.UnmountAndDelete(_paths.Dir));
            Directory.CreateDirectory(_paths.ConfDir);
            File.WriteAllText(_paths.ConfigFile, ContainerdConfig.Toml(_paths, BinDir, PauseImage));
            File.WriteAllText(Path.Combine(_paths.ConfDir, chainFwmark ? "10-fwmark.conflist" : "10-bridge.conflist"),
                ContainerdConfig.Conflist(Bed, _paths, NetworkName, Table, subnetIndex: 20, chainFwmark).ToJsonString());
            BusyboxImage.WritePauseArchive(_paths.PauseArchive, PauseImage);

            Bed.Cleanup.Push("containerd daemon", StopDaemon);
            Cri = CriClient.Connect(_paths.Socket);
            Bed.Cleanup.Push("CRI client", Cri.Dispose);
            StartDaemon();
            ProcessRunner.Run(new CommandSpec("ctr", "-a", _paths.Socket, "-n", "k8s.io", "images", "import", _paths.PauseArchive)
            {
                Timeout = TimeSpan.FromSeconds(60),
            }).EnsureSuccess();
            Bed.Cleanup.Push("pod sandboxes", RemoveEverySandbox);
            Version = Cri.Version();
        }
        catch
        {
            Bed.Dispose();
            throw;
        }
    }

    public NodeTestbed Bed { get; }

    public string FwmarkBinaryPath { get; }

    public string BinDir { get; }

    public CriClient Cri { get; }

    public (string Name, string Version, string ApiVersion) Version { get; }

    /// <summary>The CNI conf dir containerd reads (what <c>fwmark reconcile --conf-dir</c> is pointed at).</summary>
    public string ConfDir => _paths.ConfDir;

    /// <summary>host-local's reservations for the network (one file per allocated address).</summary>
    public IReadOnlyList<string> IpReservations()
    {
        var dir = Path.Combine(_paths.Ipam, NetworkName);
        return Directory.Exists(dir)
            ? [.. Directory.GetFiles(dir).Select(Path.GetFileName).OfType<string>().Where(f => f != "lock" && !f.StartsWith("last_reserved_ip", StringComparison.Ordinal)).Order()]
            : [];
    }

    /// <summary>RunPodSandbox, then PodSandboxStatus for the netns and addresses; waits until IPv6 is usable.</summary>
    public CriPod RunPod(string name, string k8sNamespace = "default", string? markAnnotation = null)
    {
        var annotations = new Dictionary<string, string> { ["example.com/owner"] = "fwmark-tests" };
        if (markAnnotation is not null)
        {
            annotations[FwmarkPluginConfig.NameAnnotation] = markAnnotation;
        }

        var id = Cri.RunPodSandbox(new PodSandboxSpec(name, k8sNamespace) { Annotations = annotations });
        var status = Cri.Status(id);
        var netnsPath = status.NetnsPath ?? throw new TestbedException($"containerd reported no netns for pod {name}: {status.RawInfo}");
        lock (_netnsPaths)
        {
            _netnsPaths.Add(netnsPath);
        }

        var netns = RuntimeNetns.Open(netnsPath);
        RuntimeNetns.WaitForUsableIPv6(netns);
        return new CriPod(name, id, netns, [.. status.Ips.Select(IPAddress.Parse)]);
    }

    /// <summary>
    /// What kubelet does when a pod goes away: StopPodSandbox, then RemovePodSandbox. A pod that is already gone
    /// is fine (tests call this in <c>finally</c> after they may have removed it themselves).
    /// </summary>
    public void Delete(CriPod pod)
    {
        try
        {
            Cri.StopPodSandbox(pod.Id);
        }
        catch (CriException ex) when (ex.Code == Grpc.Core.StatusCode.NotFound)
        {
            return;
        }

        Cri.RemovePodSandbox(pod.Id);
    }

    /// <summary>
    /// Stops containerd gracefully (SIGTERM to its PID) while sandboxes keep running under their shims, and
    /// starts it again with the same config; returns once CRI answers.
    /// </summary>
    public void Restart()
    {
        var daemon = _daemon ?? throw new InvalidOperationException("containerd is not running");
        ProcessRunner.Run(new CommandSpec("kill", "-TERM", $"{daemon.Pid}")).EnsureSuccess();
        var clock = Stopwatch.StartNew();
        while (!daemon.HasExited && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            Thread.Sleep(100);
        }

        if (!daemon.HasExited)
        {
            throw new TestbedException($"containerd (pid {daemon.Pid}) did not exit within 20 s of SIGTERM\n{daemon.Output}");
        }

        daemon.Dispose();
        _daemon = null;
        StartDaemon();
    }

    public void Dispose() => Bed.Dispose();

    private void StartDaemon()
    {
        var daemon = Nsenter.Start(Bed.Node, new CommandSpec("containerd", "--config", _paths.ConfigFile));
        _daemon = daemon;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (daemon.HasExited)
            {
                throw new TestbedException($"containerd exited while starting:\n{daemon.Output}");
            }

            if (File.Exists(_paths.Socket))
            {
                try
                {
                    Cri.Version();
                    return;
                }
                catch (CriException) when (clock.Elapsed < ReadyTimeout)
                {
                    // Socket is there, CRI plugin not serving yet.
                }
            }

            if (clock.Elapsed > ReadyTimeout)
            {
                throw new TestbedException($"containerd did not answer CRI on {_paths.Socket} within {ReadyTimeout.TotalSeconds} s:\n{daemon.Output}");
            }

            Thread.Sleep(200);
        }
    }

    private void StopDaemon()
    {
        _daemon?.Dispose();
        _daemon = null;
    }

    /// <summary>Stops and removes every sandbox containerd still knows, then drops any netns it left pinned.</summary>
    private void RemoveEverySandbox()
    {
        if (_daemon is { HasExited: false })
        {
            foreach (var id in Cri.ListPodSandboxIds())
            {
                try
                {
                    Cri.StopPodSandbox(id);
                    Cri.RemovePodSandbox(id);
                }
                catch (CriException ex)
                {
                    Console.Error.WriteLine($"fwmark runtime tests: {ex.Message}");
                }
            }
        }

        lock (_netnsPaths)
        {
            foreach (var path in _netnsPaths)
            {
                RuntimeNetns.RemoveLeftover(path);
            }
        }
    }
}
