using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Metrics;

/// <summary>NFTA_FIB_* and NFT_FIB_RESULT_* / NFTA_FIB_F_* (linux/netfilter/nf_tables.h).</summary>
internal static class FibAttr
{
    public const ushort Dreg = 1;
    public const ushort Result = 2;
    public const ushort Flags = 3;

    public const uint ResultOif = 1;
    public const uint ResultAddrType = 3;

    public const uint FlagDaddr = 1 << 1;
    public const uint FlagMark = 1 << 2;
    public const uint FlagPresent = 1 << 5;

    /// <summary>RTN_UNICAST: what `fib daddr type` yields for an address that is neither local, broadcast nor multicast.</summary>
    public const uint TypeUnicast = 1;
}

/// <summary>
/// [ fib FLAGS RESULT => reg DREG ]: a FIB lookup from inside a rule. `fib daddr . mark oif present` asks the
/// routing the kernel is about to do, with the packet's mark, whether it finds an output interface; an unreachable,
/// blackhole or prohibit route (the kill switch) or no route at all gives 0.
/// </summary>
internal sealed record FibLoad(uint Result, uint Flags, uint Dreg) : NftExpression("fib")
{
    protected override void WriteData(ref NetlinkWriter writer)
    {
        writer.WriteBigEndianU32(FibAttr.Dreg, Dreg);
        writer.WriteBigEndianU32(FibAttr.Result, Result);
        writer.WriteBigEndianU32(FibAttr.Flags, Flags);
    }
}
