namespace Fwmark.E2E.Tests.Doctor;

/// <summary>doctor's checks of the kernel state in a namespace: each broken, diagnosed, fixed, passing.</summary>
public sealed class DoctorNodeTests
{
    private const string Unrouted = """{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16}}}""";

    [Fact]
    public void Nf_tables_without_cap_net_admin_is_diagnosed_and_passes_with_it()
    {
        using var bed = new DoctorBed();
        bed.Write("10-net.conflist", DoctorBed.Conflist(Unrouted));

        // nfnetlink refuses every message without CAP_NET_ADMIN: what a kernel without nf_tables looks like to us.
        bed.Json("setpriv --bounding-set -net_admin --inh-caps -net_admin").Assert("nftables-unusable", "problem", "nf_tables is not usable");

        bed.Json().Assert("nftables-unusable", "ok");
    }

    [Fact]
    public void A_mark_without_a_rule_is_marked_but_not_steered_and_passes_once_rules_exist()
    {
        using var bed = new DoctorBed();
        bed.Write("10-net.conflist", DoctorBed.Conflist(Unrouted));
        // A rule for another mark, and one for ours that also filters by source, do not steer all of ours.
        bed.Node.Ip("rule", "add", "pref", "900", "fwmark", "0x20/0x20", "lookup", "100");
        bed.Node.Ip("rule", "add", "pref", "901", "from", "10.1.0.0/16", "fwmark", "0x10/0x10", "lookup", "100");

        bed.Json().Assert("mark-not-steered", "problem", "IPv4: mark vpn (0x10/0x10)", "IPv6: mark vpn (0x10/0x10)", "ip rule add pref 1001 fwmark 0x10/0x10 lookup T");

        bed.Node.Ip("rule", "add", "pref", "1001", "fwmark", "0x10/0x10", "lookup", "100");
        bed.Json().Assert("mark-not-steered", "problem", "IPv6: mark vpn", "ip -6 rule add");

        bed.Node.Ip("-6", "rule", "add", "pref", "1001", "fwmark", "0x10/0x10", "lookup", "100");
        bed.Json().Assert("mark-not-steered", "ok");
    }

    [Fact]
    public void A_routed_mark_without_its_rules_names_reconcile_which_fixes_it()
    {
        using var bed = new DoctorBed();
        bed.AddDevice("vpn0");
        bed.Write("10-net.conflist", DoctorBed.Conflist("""{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 100, "device": "vpn0"}}}}"""));

        bed.Json().Assert("mark-not-steered", "problem", $"fwmark reconcile --conf-dir {bed.ConfDir}");

        var reconcile = bed.Node.Exec(new Testbed.Processes.CommandSpec(DoctorBed.Binary, "reconcile", "--conf-dir", bed.ConfDir) { DropInheritedPrefixes = ["CNI_"] });
        Assert.True(reconcile.Succeeded, reconcile.Describe());
        var fixedReport = bed.Json();
        fixedReport.Assert("mark-not-steered", "ok");
        fixedReport.Assert("steering-table-empty", "ok");
        fixedReport.Assert("table-not-fail-closed", "ok");
    }

    [Fact]
    public void A_routed_mark_whose_suppress_rule_or_default_route_is_gone_is_named_object_by_object_and_reconcile_fixes_it()
    {
        using var bed = new DoctorBed();
        bed.AddDevice("vpn0");
        bed.Write("10-net.conflist", DoctorBed.Conflist("""{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 100, "gateway": ["192.0.2.1", "2001:db8:2::1"], "device": "vpn0"}}}}"""));
        Reconcile(bed);
        bed.Json().Assert("routing-differs", "ok");

        // Still steered and fail-closed, so only this check can tell: LAN and cluster routes no longer win.
        bed.Node.Ip("rule", "del", "pref", "1000");
        bed.Node.Ip("-6", "route", "del", "default", "via", "2001:db8:2::1", "table", "100");
        var broken = bed.Json();
        broken.Assert("routing-differs", "problem", "IPv4 rule \"pref 1000 fwmark 0x10/0x10 lookup main suppress_prefixlength 0\" is missing", "IPv6 route \"default via 2001:db8:2::1 dev vpn0 table 100", $"fwmark reconcile --conf-dir {bed.ConfDir}");
        broken.Assert("mark-not-steered", "ok");

        Reconcile(bed);
        bed.Json().Assert("routing-differs", "ok");
    }

    private static void Reconcile(DoctorBed bed)
    {
        var reconcile = bed.Node.Exec(new Testbed.Processes.CommandSpec(DoctorBed.Binary, "reconcile", "--conf-dir", bed.ConfDir) { DropInheritedPrefixes = ["CNI_"] });
        Assert.True(reconcile.Succeeded, reconcile.Describe());
    }

    [Fact]
    public void A_rule_into_an_empty_table_is_diagnosed_and_passes_once_the_table_has_routes()
    {
        using var bed = new DoctorBed();
        bed.Write("10-net.conflist", DoctorBed.Conflist(Unrouted));
        foreach (var family in new[] { "-4", "-6" })
        {
            bed.Node.Ip(family, "rule", "add", "pref", "1001", "fwmark", "0x10/0x10", "lookup", "100");
        }

        bed.Json().Assert("steering-table-empty", "problem", "IPv4: rule \"pref 1001 fwmark 0x10/0x10 lookup 100\"", "points to table 100, which is empty", "IPv6");

        bed.Node.Ip("route", "add", "unreachable", "default", "metric", "4294967295", "table", "100");
        bed.Json().Assert("steering-table-empty", "problem", "IPv6: rule");

        bed.Node.Ip("-6", "route", "add", "unreachable", "default", "metric", "4294967295", "table", "100");
        bed.Json().Assert("steering-table-empty", "ok");
    }

    [Fact]
    public void A_table_without_the_fail_closed_route_is_diagnosed_and_passes_once_it_has_it()
    {
        using var bed = new DoctorBed();
        bed.AddDevice("vpn0");
        bed.Write("10-net.conflist", DoctorBed.Conflist(Unrouted));
        foreach (var family in new[] { "-4", "-6" })
        {
            bed.Node.Ip(family, "rule", "add", "pref", "1001", "fwmark", "0x10/0x10", "lookup", "100");
            bed.Node.Ip(family, "route", "add", "default", "dev", "vpn0", "table", "100");
        }

        var broken = bed.Json();
        broken.Assert("table-not-fail-closed", "problem", "IPv4: table 100", "IPv6: table 100", "ip route add unreachable default metric 4294967295 table 100");
        broken.Assert("steering-table-empty", "ok");

        bed.Node.Ip("route", "add", "unreachable", "default", "metric", "4294967295", "table", "100");
        // A drop rule right after the lookup rule fails closed just as well.
        bed.Node.Ip("-6", "rule", "add", "pref", "1002", "fwmark", "0x10/0x10", "unreachable");
        bed.Json().Assert("table-not-fail-closed", "ok");
    }

    [Fact]
    public void A_mark_that_opted_out_of_fail_closed_is_not_reported()
    {
        using var bed = new DoctorBed();
        bed.AddDevice("vpn0");
        bed.Write("10-net.conflist", DoctorBed.Conflist("""{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 100, "device": "vpn0", "failClosed": false}}}}"""));
        foreach (var family in new[] { "-4", "-6" })
        {
            bed.Node.Ip(family, "rule", "add", "pref", "1001", "fwmark", "0x10/0x10", "lookup", "100");
            bed.Node.Ip(family, "route", "add", "default", "dev", "vpn0", "table", "100");
        }

        bed.Json().Assert("table-not-fail-closed", "ok");
    }

    [Theory]
    [InlineData("connmark")]
    [InlineData("loose")]
    public void Strict_rp_filter_on_the_vpn_interface_is_diagnosed_and_passes_with_connmark_and_src_valid_mark_or_loose_mode(string fix)
    {
        using var bed = new DoctorBed();
        bed.AddDevice("vpn0");
        var path = bed.Write("10-net.conflist", DoctorBed.Conflist("""{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 100, "device": "vpn0"}}}}"""));
        bed.Node.Sysctl("net.ipv4.conf.vpn0.rp_filter=1");

        bed.Json().Assert("rp-filter-strict", "problem", "vpn0: rp_filter is strict", "connmark is off", "src_valid_mark is 0", $"set \"connmark\": true in {path}");

        if (fix == "connmark")
        {
            bed.Write("10-net.conflist", DoctorBed.Conflist("""{"type": "fwmark", "connmark": true, "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 100, "device": "vpn0"}}}}"""));
            bed.Json().Assert("rp-filter-strict", "problem", "src_valid_mark is 0");
            bed.Node.Sysctl("net.ipv4.conf.all.src_valid_mark=1");
        }
        else
        {
            bed.Node.Sysctl("net.ipv4.conf.vpn0.rp_filter=2");
        }

        bed.Json().Assert("rp-filter-strict", "ok");
    }

    [Fact]
    public void Rp_filter_strict_through_conf_all_counts_for_a_device_found_through_the_table()
    {
        using var bed = new DoctorBed();
        bed.AddDevice("tun9");
        bed.Write("10-net.conflist", DoctorBed.Conflist(Unrouted));
        bed.Node.Ip("rule", "add", "pref", "1001", "fwmark", "0x10/0x10", "lookup", "100");
        bed.Node.Ip("route", "add", "default", "dev", "tun9", "table", "100");
        bed.Node.Sysctl("net.ipv4.conf.all.rp_filter=1");

        bed.Json().Assert("rp-filter-strict", "problem", "tun9: rp_filter is strict");

        bed.Node.Sysctl("net.ipv4.conf.all.rp_filter=0");
        bed.Json().Assert("rp-filter-strict", "ok");
    }

    [Theory]
    [InlineData("0x4000", "kube-proxy/kubelet")]
    [InlineData("0x2000", "portmap")]
    [InlineData("0x10000", "Calico")]
    [InlineData("0x80000", "Tailscale")]
    [InlineData("0x8", "WireGuard (wg-quick)")]
    public void Mark_bits_of_other_node_software_are_diagnosed_and_a_free_mark_passes(string mark, string user)
    {
        using var bed = new DoctorBed();
        var main = user == "Calico" ? "calico" : "bridge";
        var plugins = user == "portmap" ? """{"type": "portmap"}, """ : "";
        string Config(string value) =>
            $$"""{"cniVersion": "1.0.0", "name": "net", "plugins": [{"type": "{{main}}"}, {{plugins}}{"type": "fwmark", "capabilities": {"io.kubernetes.cri.pod-annotations": true}, "marks": {"vpn": {"mark": "{{value}}", "mask": "{{value}}" """ + "}}}]}";
        switch (user)
        {
            case "Tailscale":
                bed.AddLink("tailscale0");
                break;
            case "WireGuard (wg-quick)":
                bed.Node.Ip("rule", "add", "not", "fwmark", "51820", "table", "51820");
                break;
        }

        bed.Write("10-net.conflist", Config(mark));
        bed.Json().Assert("mark-bits-collide", "problem", $"shares bits {mark} with {user}");

        bed.Write("10-net.conflist", Config("0x10"));
        var fixedReport = bed.Json();
        fixedReport.Assert("mark-bits-collide", "ok");
        Assert.Contains(user, (string?)fixedReport.Check("mark-bits-collide")["note"]);
    }

    [Fact]
    public void Bits_of_software_that_is_not_on_the_node_are_not_reported()
    {
        using var bed = new DoctorBed();
        bed.Write("10-net.conflist", DoctorBed.Conflist("""{"type": "fwmark", "marks": {"vpn": {"mark": "0x80000", "mask": "0x80000"}}}"""));

        bed.Json().Assert("mark-bits-collide", "ok");

        bed.AddLink("tailscale0");
        bed.Json().Assert("mark-bits-collide", "problem", "Tailscale");
    }

    [Fact]
    public void A_node_set_up_right_is_healthy_exit_0_and_says_so()
    {
        using var bed = new DoctorBed();
        bed.AddDevice("vpn0");
        bed.Write("10-net.conflist", DoctorBed.Conflist("""{"type": "fwmark", "connmark": true, "marks": {"vpn": {"mark": 16, "mask": 16, "route": {"table": 100, "gateway": ["192.0.2.1", "2001:db8:2::1"], "device": "vpn0"}}}}"""));
        bed.Heartbeat();
        var reconcile = bed.Node.Exec(new Testbed.Processes.CommandSpec(DoctorBed.Binary, "reconcile", "--conf-dir", bed.ConfDir) { DropInheritedPrefixes = ["CNI_"] });
        Assert.True(reconcile.Succeeded, reconcile.Describe());

        var report = bed.Json();
        var text = bed.Run();

        Assert.True(report.Result.ExitCode == 0, report.Result.Describe());
        Assert.Equal(0, (int)report.Report["problems"]!);
        Assert.Equal(0, text.ExitCode);
        Assert.EndsWith("healthy: no problem found\n", text.Stdout);

        // One thing broken: exit 1, and the text names the check, the finding, its fix and its meaning.
        bed.Node.Ip("-6", "rule", "del", "pref", "1001");
        var broken = bed.Run();
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("PROBLEM  mark-not-steered", broken.Stdout);
        Assert.Contains("- IPv6: mark vpn (0x10/0x10) of 10-net.conflist has no ip rule that looks it up", broken.Stdout);
        Assert.Contains($"fix: fwmark reconcile --conf-dir {bed.ConfDir}", broken.Stdout);
        Assert.Contains("means: Pods with this mark are marked", broken.Stdout);
        // The consequence (not steered) and the object (the rule, in ip syntax) are both named.
        Assert.Contains("PROBLEM  routing-differs", broken.Stdout);
        Assert.Contains("IPv6 rule \"pref 1001 fwmark 0x10/0x10 lookup 100\" is missing", broken.Stdout);
        Assert.Contains("2 problem(s) found", broken.Stdout);
    }
}
