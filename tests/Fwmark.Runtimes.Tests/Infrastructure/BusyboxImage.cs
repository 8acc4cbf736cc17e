using System.Formats.Tar;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Fwmark.Runtimes.Tests.Infrastructure;

/// <summary>
/// Images built from Debian's busybox-static, because no registry is reachable in CI: a one-layer root file
/// system (/bin/busybox plus the applet links the tests run), as a plain tar for <c>podman import</c> and as
/// an OCI image archive for <c>ctr images import</c> (containerd's pause image: <c>sleep infinity</c>).
/// </summary>
internal static class BusyboxImage
{
    public const string Busybox = "/bin/busybox";
    private static readonly string[] Applets = ["sh", "sleep"];

    /// <summary>The root file system as an uncompressed tar (what an OCI layer and <c>podman import</c> take).</summary>
    public static byte[] RootfsTar()
    {
        if (!File.Exists(Busybox))
        {
            throw new InvalidOperationException($"failed to find {Busybox}: install the Debian package busybox-static (eng/deps.sh)");
        }

        using var buffer = new MemoryStream();
        using (var tar = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "bin/") { Mode = Mode755 });
            using var binary = File.OpenRead(Busybox);
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox") { Mode = Mode755, DataStream = binary });
            foreach (var applet in Applets)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, $"bin/{applet}") { LinkName = "busybox", Mode = Mode755 });
            }
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Writes an OCI image layout archive holding one image named <paramref name="imageName"/> whose entrypoint is
    /// <c>sleep infinity</c>: a pause container that never exits. The name goes into the index annotation
    /// containerd's importer reads (io.containerd.image.name).
    /// </summary>
    public static void WritePauseArchive(string path, string imageName)
    {
        var layer = RootfsTar();
        var layerDigest = Digest(layer);
        var config = Json(new JsonObject
        {
            ["architecture"] = OciArchitecture(),
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Entrypoint"] = new JsonArray("/bin/sleep", "infinity") },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(layerDigest) },
        });
        var manifest = Json(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = Descriptor("application/vnd.oci.image.config.v1+json", config),
            ["layers"] = new JsonArray(Descriptor("application/vnd.oci.image.layer.v1.tar", layer)),
        });
        var manifestDescriptor = Descriptor("application/vnd.oci.image.manifest.v1+json", manifest);
        manifestDescriptor["annotations"] = new JsonObject { ["io.containerd.image.name"] = imageName };
        var index = Json(new JsonObject { ["schemaVersion"] = 2, ["manifests"] = new JsonArray(manifestDescriptor) });

        using var file = File.Create(path);
        using var tar = new TarWriter(file, TarEntryFormat.Pax);
        Add(tar, "oci-layout", Encoding.UTF8.GetBytes("""{"imageLayoutVersion":"1.0.0"}"""));
        Add(tar, "index.json", index);
        foreach (var blob in new[] { layer, config, manifest })
        {
            Add(tar, $"blobs/sha256/{Digest(blob)["sha256:".Length..]}", blob);
        }
    }

    private const UnixFileMode Mode755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>The image must match the node, or containerd refuses to run it ("no match for platform").</summary>
    private static string OciArchitecture() => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        var other => throw new PlatformNotSupportedException($"no OCI architecture name for {other}"),
    };

    private static JsonObject Descriptor(string mediaType, byte[] content) => new()
    {
        ["mediaType"] = mediaType,
        ["digest"] = Digest(content),
        ["size"] = content.Length,
    };

    private static string Digest(byte[] content) => $"sha256:{Convert.ToHexStringLower(SHA256.HashData(content))}";

    private static byte[] Json(JsonObject value) => Encoding.UTF8.GetBytes(value.ToJsonString());

    private static void Add(TarWriter tar, string name, byte[] content)
    {
        using var data = new MemoryStream(content);
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = data, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead });
    }
}
