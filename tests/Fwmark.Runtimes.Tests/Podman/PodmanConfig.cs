namespace Fwmark.Runtimes.Tests.Podman;

/// <summary>
/// The podman configuration of one test run, read through CONTAINERS_CONF / CONTAINERS_STORAGE_CONF instead of
/// /etc/containers (which stays untouched): the CNI backend with this run's plugin and network config dirs,
/// runc + cgroupfs (crun refuses this VM's cgroup layout), a file events log, file locks instead of the
/// machine-wide /dev/shm lock segment, and ulimits the VM can grant. <c>default_subnet</c> moves the built-in
/// "podman" network away from 10.88.0.0/16, where the testbed's pod networks live. The backend is "cni" for
/// the supported setup, "netavark" for the podman 5 default that runs no CNI chain. <c>env</c> hands the run's
/// FWMARK_RUN_DIR also to the processes podman does not start with our environment: conmon's
/// <c>podman container cleanup</c> runs a second DEL when a container exits.
/// </summary>
internal static class PodmanConfig
{
    public static string ContainersConf(PodmanPaths paths, string binDir, string backend, string stateDir) => $$"""
        [containers]
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

        [network]
        network_backend = "{{backend}}"
        cni_plugin_dirs = ["{{binDir}}"]
        network_config_dir = "{{paths.NetworkConfigDir}}"
        default_subnet = "10.87.0.0/24"

        [engine]
        runtime = "runc"
        cgroup_manager = "cgroupfs"
        events_logger = "file"
        lock_type = "file"
        tmp_dir = "{{paths.Tmp}}"
        env = ["FWMARK_RUN_DIR={{stateDir}}"]

        """;

    public static string StorageConf(PodmanPaths paths) => $$"""
        [storage]
        driver = "overlay"
        graphroot = "{{paths.Root}}"
        runroot = "{{paths.RunRoot}}"

        """;
}

/// <summary>Where one podman of a test run keeps everything (one dir, removed with the run).</summary>
internal sealed record PodmanPaths(string Dir)
{
    public string Root => Path.Combine(Dir, "root");

    public string RunRoot => Path.Combine(Dir, "runroot");

    public string Tmp => Path.Combine(Dir, "tmp");

    public string NetworkConfigDir => Path.Combine(Dir, "net.d");

    public string Ipam => Path.Combine(Dir, "ipam");

    public string ContainersConf => Path.Combine(Dir, "containers.conf");

    public string StorageConf => Path.Combine(Dir, "storage.conf");

    public string RootfsTar => Path.Combine(Dir, "rootfs.tar");
}
