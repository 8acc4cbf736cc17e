using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.Testbed.Cni;

/// <summary>A pod/container: its own namespace plus the attachment a runtime would describe, and its ADD result.</summary>
public sealed class Pod
{
    internal Pod(string name, Netns netns, CniAttachment attachment)
    {
        Name = name;
        Netns = netns;
        Attachment = attachment;
    }

    public string Name { get; }

    public Netns Netns { get; }

    public CniAttachment Attachment { get; }

    public string ContainerId => Attachment.ContainerId;

    /// <summary>The final result of the last successful chain ADD (what a runtime caches for DEL/CHECK).</summary>
    public JsonObject? AddResult { get; internal set; }

    public IReadOnlyList<IPAddress> Addresses => AddResult is null ? [] : ResultAddresses(AddResult);

    public IPAddress IPv4 => Addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
        ?? throw new TestbedException($"pod {Name} has no IPv4 address in its ADD result");

    public IPAddress IPv6 => Addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6)
        ?? throw new TestbedException($"pod {Name} has no IPv6 address in its ADD result");

    /// <summary>The addresses (without prefix length) in a CNI result's "ips".</summary>
    public static List<IPAddress> ResultAddresses(JsonObject result) =>
        [.. (result["ips"]?.AsArray() ?? [])
            .Select(ip => ip?["address"]?.GetValue<string>() ?? "")
            .Select(cidr => IPAddress.Parse(cidr.Split('/')[0]))];
}
