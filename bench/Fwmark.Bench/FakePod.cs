using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Fwmark.Bench;

/// <summary>
/// A pod that exists only in the plugin's eyes: a unique container ID and addresses from 10.64.0.0/10
/// (plus 2001:db8:64::/48 for every fourth pod). The plugin only programs nftables, so nothing needs
/// to own these addresses.
/// </summary>
internal sealed record FakePod(int Index, string ContainerId, string PodName, IReadOnlyList<string> Cidrs)
{
    /// <summary>Pods created while measuring start here so they never collide with the populated ones.</summary>
    public const int MeasuredIndexBase = 2_000_000;

    // 10.64.0.0/10 holds 2^22 addresses; indexes map onto it one to one.
    private const int V4PoolSize = 1 << 22;
    private const uint V4PoolBase = (10u << 24) | (64u << 16);

    public static FakePod Create(int index)
    {
        // +1 keeps the pool's network address (10.64.0.0) out of use; the broadcast address stays out too.
        if (index is < 0 or >= V4PoolSize - 2)
            throw new ArgumentOutOfRangeException(nameof(index), index, "pod index must fit 10.64.0.0/10");

        var v4 = V4PoolBase + (uint)index + 1;
        var cidrs = new List<string> { $"{new IPAddress(BitConverterBigEndian(v4))}/10" };
        if (index % 4 == 0)
            cidrs.Add($"2001:db8:64::1:{index >> 16:x}:{index & 0xffff:x}/64");

        // Same shape as a containerd sandbox ID (64 hex chars), derived from the index so it is unique.
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes($"fwmark-bench/{index}")));
        return new FakePod(index, id, $"p{index}", cidrs);
    }

    /// <summary>The host end of the pod's veth on the bridge path (measured pods share one pair, used one at a time).</summary>
    public string HostVeth => Index >= MeasuredIndexBase ? "fwbhm" : $"fwbh{Index}";

    /// <summary>The pod's end of the veth, in the bench's netns too, and the pod's CNI_IFNAME on the bridge path.</summary>
    public string PodInterface => Index >= MeasuredIndexBase ? "fwbpm" : $"fwbp{Index}";

    /// <summary>The bridge of the pod's host veth: a Linux bridge takes at most 1024 ports.</summary>
    public string Bridge => Index >= MeasuredIndexBase ? "fwbbrm" : $"fwbbr{Index / 1000}";

    private static byte[] BitConverterBigEndian(uint value) =>
        [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
}
