using System.Net;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.Runtimes.Tests.Podman;

/// <summary>A running podman container: its ID, the netns podman made for it, and its addresses on its network.</summary>
public sealed record PodmanContainer(string Name, string Id, string Network, Netns Netns, IReadOnlyList<IPAddress> Addresses)
{
    public override string ToString() => $"container {Name} on {Network} ({string.Join(", ", Addresses)})";
}
