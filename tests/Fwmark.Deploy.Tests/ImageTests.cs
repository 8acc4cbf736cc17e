using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Fwmark.Deploy.Tests;

/// <summary>
/// The image test.sh built with buildah (FWMARK_IMAGE, an OCI archive), run with podman as the DaemonSet's init
/// container would run it: against a temp host root holding k3s's dirs, it installs the binary (the same bytes as
/// FWMARK_BIN) and fwmark's conflist; its uninstall gives the root back. podman gets its own storage, run root and
/// containers.conf in a temp dir: /etc/containers is neither used for storage nor changed.
/// </summary>
public sealed class ImageTests
{
    [Fact]
    public void The_images_installer_installs_binary_and_conflist_into_a_host_root_and_uninstalls()
    {
        var archive = Environment.GetEnvironmentVariable("FWMARK_IMAGE");
        var binary = Environment.GetEnvironmentVariable("FWMARK_BIN");
        Assert.True(archive is not null && File.Exists(archive), $"FWMARK_IMAGE must name the image archive (eng/build-image.sh; test.sh sets it), got \"{archive}\"");
        Assert.True(binary is not null && File.Exists(binary), "FWMARK_BIN must name the published binary");

        var temp = Directory.CreateTempSubdirectory("fwmark-podman-").FullName;
        try
        {
            var podman = new Podman(temp);
            var host = Path.Join(temp, "host");
            var confDir = Path.Join(host, "var/lib/rancher/k3s/agent/etc/cni/net.d");
            Directory.CreateDirectory(confDir);
            Directory.CreateDirectory(Path.Join(host, "var/lib/rancher/k3s/data/cni"));
            const string Primary = """{"name":"cbr0","cniVersion":"1.0.0","plugins":[{"type":"flannel","delegate":{"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}""";
            File.WriteAllText(Path.Join(confDir, "10-flannel.conflist"), Primary);
            File.WriteAllText(Path.Join(temp, "config.json"), """{"marks": {"vpn": {"mark": 16, "mask": 16}}}""");

            var loaded = podman.Run("load", "-q", "-i", archive);
            var image = loaded.Split(':', 2)[1].Trim();
            string[] mounts = ["--network", "none", "-v", $"{host}:/host", "-v", $"{temp}/config.json:/etc/fwmark/config.json:ro"];

            var output = podman.Run([.. new[] { "run", "--rm" }, .. mounts, image, "install", "--root", "/host", "--layout", "k3s", "--config", "/etc/fwmark/config.json"]);
            Assert.Contains("wrote /var/lib/rancher/k3s/data/cni/fwmark", output);
            Assert.Equal(File.ReadAllBytes(binary), File.ReadAllBytes(Path.Join(host, "var/lib/rancher/k3s/data/cni/fwmark")));
            var effective = JsonNode.Parse(File.ReadAllText(Path.Join(confDir, "00-fwmark.conflist")))!;
            Assert.Equal(["flannel", "portmap", "fwmark"], effective["plugins"]!.AsArray().Select(p => p!["type"]!.GetValue<string>()));
            Assert.Equal(Primary, File.ReadAllText(Path.Join(confDir, "10-flannel.conflist")));

            podman.Run([.. new[] { "run", "--rm" }, .. mounts, image, "uninstall", "--root", "/host"]);
            Assert.Equal(["10-flannel.conflist"], Directory.GetFiles(host, "*", SearchOption.AllDirectories).Select(Path.GetFileName));
            podman.Run("rmi", "-a", "-f");
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    private sealed class Podman(string dir)
    {
        private readonly string _conf = WriteConf(dir);

        public string Run(params string[] args)
        {
            var start = new ProcessStartInfo("podman") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "--root", $"{dir}/storage", "--runroot", $"{dir}/run", "--tmpdir", $"{dir}/tmp", "--storage-driver", "vfs" }.Concat(args))
            {
                start.ArgumentList.Add(a);
            }

            start.Environment["CONTAINERS_CONF"] = _conf;
            start.Environment["CONTAINERS_REGISTRIES_CONF"] = $"{dir}/registries.conf";
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(120_000), $"podman {string.Join(' ', args)} did not finish");
            Assert.True(process.ExitCode == 0, $"podman {string.Join(' ', args)} exited {process.ExitCode}\n{stdout}\n{stderr.Result}");
            return stdout;
        }

        private static string WriteConf(string dir)
        {
            Directory.CreateDirectory($"{dir}/tmp");
            File.WriteAllText($"{dir}/registries.conf", "");
            // runc (crun refuses this cgroup layout), cgroupfs, file events: what works on these machines.
            File.WriteAllText($"{dir}/containers.conf", """
                [containers]
                default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
                [engine]
                runtime = "runc"
                cgroup_manager = "cgroupfs"
                events_logger = "file"
                """);
            return $"{dir}/containers.conf";
        }
    }
}
