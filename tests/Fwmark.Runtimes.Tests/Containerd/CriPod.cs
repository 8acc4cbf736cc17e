using System.Net;
using Fwmark.Testbed.Namespaces;

namespace Fwmark.Runtimes.Tests.Containerd;

/// <summary>A pod sandbox containerd runs: its CRI ID, the netns containerd made for it, and its addresses.</summary>
public sealed record CriPod(string Name, string Id, Netns Netns, IReadOnlyList<IPAddress> Addresses)
{
    public override string ToString() => $"pod {Name} ({string.Join(", ", Addresses)})";
}
