using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Cri.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace Fwmark.Cri;

/// <summary>
/// The CRI RuntimeService calls a kubelet makes for a pod's network life: run, status, stop, remove (what
/// crictl runp/inspectp/stopp/rmp do). gRPC over the runtime's unix socket; every call has a deadline, so a
/// wedged daemon fails the test instead of hanging it. Failures surface as <see cref="CriException"/>.
/// </summary>
public sealed class CriClient : IDisposable
{
    private static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(60);
    private readonly GrpcChannel _channel;
    private readonly RuntimeService.RuntimeServiceClient _runtime;

    private CriClient(string socketPath, GrpcChannel channel)
    {
        SocketPath = socketPath;
        _channel = channel;
        _runtime = new RuntimeService.RuntimeServiceClient(channel);
    }

    public string SocketPath { get; }

    /// <summary>A client for the CRI endpoint at <paramref name="socketPath"/> (no connection is made yet).</summary>
    public static CriClient Connect(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            // A path socket lives in the file system, not in a network namespace: the runner reaches a daemon
            // that runs inside the node's namespace through it.
            ConnectCallback = async (_, cancel) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancel).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        // The authority is never resolved: the connect callback above decides where bytes go.
        var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        return new CriClient(socketPath, channel);
    }

    /// <summary>The runtime's name and version, e.g. ("containerd", "1.6.20~ds1", "v1").</summary>
    public (string Name, string Version, string ApiVersion) Version()
    {
        var reply = Call("Version", () => _runtime.Version(new VersionRequest { Version = "v1" }, deadline: Deadline()));
        return (reply.RuntimeName, reply.RuntimeVersion, reply.RuntimeApiVersion);
    }

    /// <summary>RunPodSandbox: the runtime creates the pod's netns and runs the CNI ADD; returns the sandbox ID.</summary>
    public string RunPodSandbox(PodSandboxSpec spec)
    {
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = spec.Name, Namespace = spec.Namespace, Uid = spec.Uid },
            Hostname = spec.Name,
        };
        foreach (var (key, value) in spec.Annotations)
        {
            config.Annotations.Add(key, value);
        }

        config.Labels.Add("io.kubernetes.pod.name", spec.Name);
        config.Labels.Add("io.kubernetes.pod.namespace", spec.Namespace);
        var reply = Call($"RunPodSandbox {spec.Namespace}/{spec.Name}", () => _runtime.RunPodSandbox(new RunPodSandboxRequest { Config = config }, deadline: Deadline()));
        return reply.PodSandboxId;
    }

    /// <summary>StopPodSandbox: CNI DEL with the cached result; the sandbox and its netns record stay.</summary>
    public void StopPodSandbox(string sandboxId) =>
        Call($"StopPodSandbox {sandboxId}", () => _runtime.StopPodSandbox(new StopPodSandboxRequest { PodSandboxId = sandboxId }, deadline: Deadline()));

    /// <summary>RemovePodSandbox: containerd sends a second CNI DEL (without prevResult) and forgets the sandbox.</summary>
    public void RemovePodSandbox(string sandboxId) =>
        Call($"RemovePodSandbox {sandboxId}", () => _runtime.RemovePodSandbox(new RemovePodSandboxRequest { PodSandboxId = sandboxId }, deadline: Deadline()));

    /// <summary>PodSandboxStatus (verbose): state, addresses, and the netns path from the runtime's info.</summary>
    public PodSandboxInfo Status(string sandboxId)
    {
        var reply = Call($"PodSandboxStatus {sandboxId}", () => _runtime.PodSandboxStatus(new PodSandboxStatusRequest { PodSandboxId = sandboxId, Verbose = true }, deadline: Deadline()));
        var status = reply.Status;
        var ips = new List<string>();
        if (status.Network is { } network)
        {
            if (network.Ip.Length > 0)
            {
                ips.Add(network.Ip);
            }

            ips.AddRange(network.AdditionalIps.Select(a => a.Ip));
        }

        var info = reply.Info.TryGetValue("info", out var json) ? json : "";
        return new PodSandboxInfo(status.Id, status.State == PodSandboxState.SandboxReady, ips, NetnsPathOf(info), info);
    }

    /// <summary>IDs of every sandbox the runtime knows (any state): what cleanup must stop and remove.</summary>
    public IReadOnlyList<string> ListPodSandboxIds() =>
        [.. Call("ListPodSandbox", () => _runtime.ListPodSandbox(new ListPodSandboxRequest(), deadline: Deadline())).Items.Select(i => i.Id)];

    public void Dispose() => _channel.Dispose();

    /// <summary>
    /// containerd's verbose info is a JSON object whose "runtimeSpec" is the sandbox's OCI spec; the network
    /// namespace entry there carries the path containerd pinned (and handed to CNI as CNI_NETNS).
    /// </summary>
    private static string? NetnsPathOf(string infoJson)
    {
        if (infoJson.Length == 0)
        {
            return null;
        }

        var namespaces = JsonNode.Parse(infoJson)?["runtimeSpec"]?["linux"]?["namespaces"]?.AsArray() ?? [];
        return namespaces
            .Where(n => n?["type"]?.GetValue<string>() == "network")
            .Select(n => n?["path"]?.GetValue<string>())
            .FirstOrDefault(p => !string.IsNullOrEmpty(p));
    }

    private static DateTime Deadline() => DateTime.UtcNow + DefaultDeadline;

    private T Call<T>(string what, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (RpcException ex)
        {
            throw new CriException($"failed to call CRI {what} on {SocketPath}: {ex.StatusCode}: {ex.Status.Detail}", ex.StatusCode, ex.Status.Detail, ex);
        }
    }
}
