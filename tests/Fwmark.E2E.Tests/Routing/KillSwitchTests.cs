using System.Net;
using System.Net.Sockets;
using Fwmark.Testbed.Routing;
using Fwmark.Testbed.Topology;

namespace Fwmark.E2E.Tests.Routing;

/// <summary>How the VPN path disappears.</summary>
public enum VpnFault
{
    /// <summary>The VPN client exited and its device is gone (<c>ip link del</c>).</summary>
    UplinkDeleted,

    /// <summary>The device went down (<c>ip link set down</c>): the kernel flushes its routes.</summary>
    UplinkDown,

    /// <summary>Someone deleted the VPN default route in table T; the device is fine.</summary>
    DefaultRouteDeleted,
}

/// <summary>
/// failClosed (the default) with real packets: while the VPN path is gone, no packet of the marked pod leaves
/// through the main gateway and its connections are refused at once; the plain pod does not notice. When
/// the VPN is back, <c>fwmark reconcile</c> alone (no new ADD) makes the marked pod's traffic flow through
/// it again. IPv4 and IPv6 of the same dual-stack pod, each on its own node.
/// </summary>
public sealed class KillSwitchTests
{
    public static TheoryData<VpnFault, AddressFamily> Cases
    {
        get
        {
            var cases = new TheoryData<VpnFault, AddressFamily>();
            foreach (var fault in Enum.GetValues<VpnFault>())
            {
                foreach (var family in ExpectedRouting.Families)
                {
                    cases.Add(fault, family);
                }
            }

            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Marked_pod_is_cut_off_not_leaked_while_the_vpn_is_gone_and_reconcile_brings_it_back(VpnFault fault, AddressFamily family)
    {
        using var bed = RoutedBed.Create();
        var marked = bed.AddMarked("ks");
        var plain = bed.AddPlain("plain");
        var podIp = RoutedBed.AddressOf(marked, family);
        bed.Bed.Main.Watch(podIp);
        bed.Bed.Vpn.Watch(podIp);
        bed.AssertPath(marked, family, EgressPath.Vpn, "before the fault");

        Break(bed, fault, family);

        bed.AssertRefusedFast(marked, family, $"after {fault}");
        bed.AssertPath(plain, family, EgressPath.Main, $"plain pod after {fault}");
        AssertNothingAtMain(bed, podIp, $"after {fault}");
        ExpectedRouting.AssertFailClosedOnly(bed.Node, family, RoutedBed.Table, $"after {fault}");

        if (fault != VpnFault.DefaultRouteDeleted)
        {
            // The device is still missing/down: reconcile cannot make the node match, must say why, and must not
            // open a leak while trying.
            var early = bed.Reconcile();
            Assert.True(early.ExitCode != 0, $"reconcile reported success while {bed.Bed.NodeVpnLink} is {fault}\n{early.Describe()}\n{bed.Diagnostics()}");
            Assert.Contains(bed.Bed.NodeVpnLink, early.Stdout + early.Stderr);
            bed.AssertRefusedFast(marked, family, $"after a reconcile with the VPN still {fault}");
        }

        Restore(bed, fault);
        // The kernel does not bring routes through a re-created or re-enabled device back: still fail-closed.
        bed.AssertRefusedFast(marked, family, $"after the VPN client restored the link ({fault}), before reconcile");
        var vpnBefore = bed.Bed.Vpn.PacketsFrom(podIp);

        var reconcile = bed.Reconcile();

        Assert.True(reconcile.Succeeded, $"reconcile after the VPN came back\n{reconcile.Describe()}\n{bed.Diagnostics()}");
        ExpectedRouting.AssertInstalled(bed.Node, bed.Priority, RoutedBed.Table, bed.Bed.NodeVpnLink, $"after {fault} and reconcile");
        bed.AssertPath(marked, family, EgressPath.Vpn, $"after {fault} and reconcile");
        bed.AssertPath(plain, family, EgressPath.Main, $"plain pod after {fault} and reconcile");
        Assert.True(bed.Bed.Vpn.PacketsFrom(podIp) > vpnBefore, "the marked pod's connection after reconcile was not counted at the VPN gateway");
        AssertNothingAtMain(bed, podIp, "at the end");
    }

    private static void Break(RoutedBed bed, VpnFault fault, AddressFamily family)
    {
        switch (fault)
        {
            case VpnFault.UplinkDeleted:
                VpnUplink.Delete(bed.Bed);
                break;
            case VpnFault.UplinkDown:
                VpnUplink.SetDown(bed.Bed);
                break;
            case VpnFault.DefaultRouteDeleted:
                // Exactly the VPN default: a bare "ip route del default table T" may pick the unreachable one.
                bed.Node.Ip(
                    IpRoutingOracle.FamilyFlag(family), "route", "del", "default", "via", ExpectedRouting.GatewayOf(family).ToString(),
                    "dev", bed.Bed.NodeVpnLink, "table", $"{RoutedBed.Table}");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    /// <summary>What the VPN client does when it comes back; policy routing is left to reconcile.</summary>
    private static void Restore(RoutedBed bed, VpnFault fault)
    {
        switch (fault)
        {
            case VpnFault.UplinkDeleted:
                VpnUplink.Recreate(bed.Bed);
                break;
            case VpnFault.UplinkDown:
                VpnUplink.BringUp(bed.Bed);
                break;
            case VpnFault.DefaultRouteDeleted:
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    private static void AssertNothingAtMain(RoutedBed bed, IPAddress podIp, string when)
    {
        var leaked = bed.Bed.Main.PacketsFrom(podIp);
        Assert.True(leaked == 0, $"{when}: {leaked} packets of the marked pod's {podIp} left through the main gateway\n{bed.Diagnostics()}");
    }
}
