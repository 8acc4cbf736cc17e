namespace Fwmark.E2E.Tests.Doctor;

/// <summary>doctor's checks of the conf dir, the bin dir, Cilium's state and the agent: each broken, diagnosed, fixed, passing.</summary>
public sealed class DoctorConfigTests
{
    private const string Fwmark = """{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 16}}}""";

    [Fact]
    public void An_unreadable_or_broken_conflist_is_named_and_passes_once_fixed()
    {
        using var bed = new DoctorBed();
        var cut = bed.Write("10-net.conflist", """{"cniVersion": "1.0.0", "name": "cut""");
        var dangling = Path.Combine(bed.ConfDir, "20-gone.conflist");
        File.CreateSymbolicLink(dangling, Path.Combine(bed.Root, "nowhere"));
        var invalid = bed.Write("30-bad.conflist", DoctorBed.Conflist("""{"type": "fwmark", "marks": {"vpn": {"mark": 16, "mask": 0}}}"""));

        var broken = bed.Json();

        broken.Assert("conflist-invalid", "problem", $"{cut}: failed to parse conflist", $"failed to read {dangling}: no such file", invalid, "marks.vpn.mask");
        Assert.Equal(1, broken.Result.ExitCode);

        bed.Write("10-net.conflist", DoctorBed.Conflist(Fwmark));
        File.Delete(dangling);
        File.Delete(invalid);
        bed.Json().Assert("conflist-invalid", "ok");
    }

    [Fact]
    public void A_conf_dir_that_does_not_exist_is_a_finding_not_a_crash()
    {
        using var bed = new DoctorBed();
        Directory.Delete(bed.ConfDir);

        var report = bed.Json();

        report.Assert("conflist-invalid", "problem", $"failed to read conf dir {bed.ConfDir}: no such directory");
        Assert.Equal("skipped", report.Status("loaded-conflist-lacks-fwmark"));
    }

    [Fact]
    public void The_lexically_first_conflist_without_fwmark_is_diagnosed_and_passes_once_it_has_it()
    {
        using var bed = new DoctorBed();
        var first = bed.Write("05-other.conflist", """{"cniVersion": "1.0.0", "name": "other", "plugins": [{"type": "bridge"}]}""");
        var ours = bed.Write("10-net.conflist", DoctorBed.Conflist(Fwmark));

        bed.Json().Assert("loaded-conflist-lacks-fwmark", "problem", first, $"fwmark is only in {ours}");

        File.Move(first, Path.Combine(bed.ConfDir, "20-other.conflist"));
        bed.Json().Assert("loaded-conflist-lacks-fwmark", "ok");
    }

    [Fact]
    public void An_empty_conf_dir_is_diagnosed()
    {
        using var bed = new DoctorBed();

        bed.Json().Assert("loaded-conflist-lacks-fwmark", "problem", "holds no .conf, .conflist or .json file");

        bed.Write("10-net.conflist", DoctorBed.Conflist(Fwmark));
        bed.Json().Assert("loaded-conflist-lacks-fwmark", "ok");
    }

    [Theory]
    [InlineData("first")]
    [InlineData("before bridge")]
    public void Fwmark_before_the_main_plugin_is_diagnosed_and_passes_once_moved_after_it(string where)
    {
        using var bed = new DoctorBed();
        var plugins = where == "first" ? $$"""[{{Fwmark}}, {"type": "portmap"}]""" : $$"""[{"type": "portmap"}, {{Fwmark}}, {"type": "bridge"}]""";
        var path = bed.Write("10-net.conflist", $$"""{"cniVersion": "1.0.0", "name": "net", "plugins": {{plugins}}}""");

        bed.Json().Assert("fwmark-before-main-plugin", "problem", path, where == "first" ? "fwmark is the first plugin" : "before the main plugin bridge");

        bed.Write("10-net.conflist", DoctorBed.Conflist(Fwmark));
        bed.Json().Assert("fwmark-before-main-plugin", "ok");
    }

    [Fact]
    public void A_kubernetes_network_without_the_pod_annotations_capability_is_diagnosed_and_passes_once_declared()
    {
        using var bed = new DoctorBed();
        var path = bed.Write("10-flannel.conflist", DoctorBed.Conflist(Fwmark, "flannel"));

        bed.Json().Assert("pod-annotations-capability", "problem", path, "io.kubernetes.cri.pod-annotations");

        bed.Write("10-flannel.conflist", DoctorBed.Conflist("""{"type": "fwmark", "capabilities": {"io.kubernetes.cri.pod-annotations": true}, "marks": {"vpn": {"mark": 16, "mask": 16}}}""", "flannel"));
        bed.Json().Assert("pod-annotations-capability", "ok");
    }

    [Fact]
    public void A_network_that_is_not_kubernetes_does_not_need_the_capability()
    {
        using var bed = new DoctorBed();
        bed.Write("10-net.conflist", DoctorBed.Conflist(Fwmark, "bridge"));

        bed.Json().Assert("pod-annotations-capability", "skipped");
    }

    [Fact]
    public void A_missing_or_not_executable_plugin_binary_is_diagnosed_and_passes_once_installed()
    {
        using var bed = new DoctorBed();
        bed.Write("10-net.conflist", DoctorBed.Conflist(Fwmark));
        var installed = Path.Combine(bed.BinDir, "fwmark");
        File.Delete(installed);

        bed.Json().Assert("plugin-binary-missing", "problem", $"{installed} does not exist", "install -m 0755");

        File.WriteAllText(installed, "");
        File.SetUnixFileMode(installed, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        bed.Json().Assert("plugin-binary-missing", "problem", $"{installed} is not executable", $"chmod 0755 {installed}");

        File.Copy(DoctorBed.Binary, installed, overwrite: true);
        File.SetUnixFileMode(installed, (UnixFileMode)0b111_101_101);
        bed.Json().Assert("plugin-binary-missing", "ok");
    }

    [Theory]
    [InlineData("defines host routing")]
    [InlineData("no state file")]
    public void Cilium_routing_pods_in_ebpf_is_diagnosed_and_passes_with_legacy_host_routing(string kind)
    {
        using var bed = new DoctorBed();
        bed.Write("05-cilium.conflist", DoctorBed.Conflist("""{"type": "fwmark", "capabilities": {"io.kubernetes.cri.pod-annotations": true}, "marks": {"vpn": {"mark": 16, "mask": 16}}}""", "cilium-cni"));
        var config = Path.Combine(bed.CiliumStateDir, "globals", "node_config.h");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        if (kind == "defines host routing")
        {
            File.WriteAllText(config, "#define ENABLE_IPV4 1\n#define ENABLE_HOST_ROUTING 1\n#define ENABLE_NODEPORT 1\n");
        }

        bed.Json().Assert("cilium-bpf-host-routing", "problem", kind == "no state file" ? "cannot be read" : "defines ENABLE_HOST_ROUTING");

        // What the agent renders with bpf.hostLegacyRouting=true: no such define (a longer name must not count).
        File.WriteAllText(config, "#define ENABLE_IPV4 1\n#define ENABLE_HOST_ROUTING_LEGACY_NOTE 1\n#define ENABLE_NODEPORT 1\n");
        bed.Json().Assert("cilium-bpf-host-routing", "ok");
    }

    [Fact]
    public void Without_cilium_the_cilium_check_does_not_apply_but_a_cilium_host_interface_makes_it_apply()
    {
        using var bed = new DoctorBed();
        bed.Write("10-net.conflist", DoctorBed.Conflist(Fwmark));

        bed.Json().Assert("cilium-bpf-host-routing", "skipped");

        bed.AddLink("cilium_host");
        bed.Json().Assert("cilium-bpf-host-routing", "problem", "Cilium is present");
    }

    [Fact]
    public void An_agent_that_is_not_running_is_diagnosed_and_passes_once_it_beats()
    {
        using var bed = new DoctorBed();
        bed.Write("10-net.conflist", DoctorBed.Conflist(Fwmark));

        bed.Json().Assert("agent-not-running", "problem", "agent.heartbeat does not exist");

        var heartbeat = bed.Heartbeat();
        bed.Json().Assert("agent-not-running", "ok");

        File.SetLastWriteTimeUtc(heartbeat, DateTime.UtcNow.AddMinutes(-2));
        bed.Json().Assert("agent-not-running", "problem", "it is hung or stopped");

        // A PID above the kernel's maximum can never be running.
        bed.Heartbeat(pid: 99_999_999);
        bed.Json().Assert("agent-not-running", "problem", "is not running any more");
    }
}
