using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Fwmark.Linux.Dataplane;

/// <summary>What a plan found exact: the inet table for these sets, and the bridge table (exact) or its absence.</summary>
internal sealed record VerifiedStructure(IReadOnlyList<string> SetNames, bool Bridge);

/// <summary>
/// "At nf_tables generation <see cref="Generation"/> of the network namespace <see cref="Netns"/>, table inet fwmark
/// was exactly what this build makes for <see cref="SetNames"/> (no drift of any kind), table bridge fwmark was too
/// when <see cref="Bridge"/> says so and did not exist otherwise, and no table was waiting for the agent's restore."
///
/// Why it holds: the generation is the namespace's whole ruleset's, and every committed transaction, whoever sends it
/// (nft by hand, a firewall reload, the agent, another fwmark), moves it on by exactly one. So while the generation
/// read is the claim's, nothing changed since the claim was made, and a call may skip reading and comparing the
/// structure (8 of an ADD's 11 netlink requests and the rule comparison: docs/benchmarks.md). Any other generation is a miss and
/// the call reads and compares everything, as without a claim.
///
/// Where a claim comes from (Dataplane/NftDataplane.cs): only from a call that read the tables and found no drift at
/// its generation g, or that used a claim for g; if that call then committed only element changes
/// (<see cref="NfTables.NftOperation.ChangesStructure"/>) with the generation check, the structure is exactly as
/// before at g + 1, and the claim moves on to g + 1. A call that repaired anything makes no claim: the next call
/// reads again and makes one only if the repair left nothing to find.
/// <see cref="Build"/> ties the claim to this build's idea of the structure: another fwmark version wants other rules.
/// <see cref="Boot"/> ties it to this boot: where the state directory is on a disk, the claim outlives a reboot, and
/// the node namespace's cookie and a young ruleset's generation are small numbers that repeat from boot to boot.
/// </summary>
internal sealed record StructureClaim(Guid Build, Guid Boot, ulong Netns, uint Generation, IReadOnlyList<string> SetNames, bool Bridge)
{
    /// <summary>
    /// This build's identity: the module version IDs of the assemblies that define the wanted structure (rules and
    /// sets here, mark and chain naming in Fwmark.Core). Deterministic builds give the same source the same ID.
    /// </summary>
    public static Guid ThisBuild { get; } = Combine(typeof(StructureClaim), typeof(Core.MarkSpec));

    /// <summary>This boot (the kernel's boot ID); empty when the kernel does not say.</summary>
    public static Guid ThisBoot { get; } = Guid.TryParse(Records.FileAttachmentRecordStore.CurrentBootId, out var boot) ? boot : Guid.Empty;

    /// <summary>False when this build or boot cannot be told from another: then no claim is made or used.</summary>
    public static bool Usable => ThisBuild != Guid.Empty && ThisBoot != Guid.Empty;

    /// <summary>A new claim of this build and boot.</summary>
    public static StructureClaim Make(ulong netns, uint generation, IReadOnlyList<string> setNames, bool bridge) =>
        new(ThisBuild, ThisBoot, netns, generation, setNames, bridge);

    /// <summary>Empty when any module has no version ID (metadata without one): a constant would match every build.</summary>
    private static Guid Combine(params Type[] types)
    {
        var ids = types.Select(t => t.Assembly.ManifestModule.ModuleVersionId).ToList();
        return ids.Contains(Guid.Empty) ? Guid.Empty : new Guid(XxHash128.Hash([.. ids.SelectMany(id => id.ToByteArray())]));
    }

    private const string Magic = "fwmark-structure-claim/1";

    /// <summary>True when the claim says the structure a call for <paramref name="markChain"/> needs is already there.</summary>
    public bool Covers(string markChain, bool needsBridge) =>
        FwmarkRuleset.InetSetsOf(markChain).All(set => SetNames.Contains(set.Name, StringComparer.Ordinal))
        && (Bridge || !needsBridge);

    /// <summary>The same claim one generation later (after a commit of element changes only), or null where the kernel's counter wraps.</summary>
    public StructureClaim? Next() => Generation == uint.MaxValue ? null : this with { Generation = Generation + 1 };

    /// <summary>One line, with a checksum so a reader that catches a write half done sees garbage, not another claim.</summary>
    public string Format()
    {
        var body = string.Join(' ', Magic, Build.ToString("N"), Boot.ToString("N"), Netns.ToString(CultureInfo.InvariantCulture), Generation.ToString(CultureInfo.InvariantCulture),
            Bridge ? "bridge" : "no-bridge", string.Join(',', SetNames));
        return $"{body} {Checksum(body)}\n";
    }

    /// <summary>The claim in <paramref name="text"/>, or null for anything that is not one whole, intact claim.</summary>
    public static StructureClaim? Parse(string text)
    {
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        if (end < 0)
        {
            return null;
        }

        var line = text[..end];
        var split = line.LastIndexOf(' ');
        if (split < 0 || line[(split + 1)..] != Checksum(line[..split]))
        {
            return null;
        }

        var fields = line[..split].Split(' ');
        if (fields.Length != 7 || fields[0] != Magic
            || !Guid.TryParseExact(fields[1], "N", out var build)
            || !Guid.TryParseExact(fields[2], "N", out var boot)
            || !ulong.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var netns)
            || !uint.TryParse(fields[4], NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            || fields[5] is not ("bridge" or "no-bridge"))
        {
            return null;
        }

        var sets = fields[6].Length == 0 ? [] : fields[6].Split(',');
        return new StructureClaim(build, boot, netns, generation, sets, fields[5] == "bridge");
    }

    private static string Checksum(string body) => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(body)).ToString("x16", CultureInfo.InvariantCulture);
}

/// <summary>
/// Where claims live: one small file beside the plugin's lock (the state directory, /run/fwmark on a node). Written
/// in place with one pwrite, by the plugin under its lock and by the agent's guard without it (no temporary file and
/// rename: this is on every ADD and DEL; writes to one file are serialised by the kernel, and a read that catches
/// one half done fails the checksum, which is a miss). Everything here is best effort: a claim that cannot be read
/// or written is a miss, never an error, since the call then does the full read it would do without claims.
/// </summary>
internal sealed class StructureClaimFile(string directory)
{
    public const string FileName = "nftables-verified";

    public string Path { get; } = System.IO.Path.Combine(directory, FileName);

    /// <summary>The claim for this build, <paramref name="netns"/> and <paramref name="generation"/>, or null.</summary>
    public StructureClaim? Find(ulong? netns, uint generation) => Peek(netns) is { } claim && claim.Generation == generation ? claim : null;

    /// <summary>The claim on file for this build, boot and <paramref name="netns"/>, whatever its generation, or null.</summary>
    public StructureClaim? Peek(ulong? netns)
    {
        // No file is the usual state of a new node: a stat, not an exception, answers that.
        if (netns is null || !StructureClaim.Usable || !File.Exists(Path))
        {
            return null;
        }

        try
        {
            using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read);
            Span<byte> buffer = stackalloc byte[4096];
            var read = RandomAccess.Read(handle, buffer, 0);
            return StructureClaim.Parse(Encoding.UTF8.GetString(buffer[..read])) is { } claim
                   && claim.Build == StructureClaim.ThisBuild && claim.Boot == StructureClaim.ThisBoot && claim.Netns == netns
                ? claim
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Replaces the claim; a failure leaves at worst a claim no reader accepts.</summary>
    public void Write(StructureClaim claim)
    {
        if (!StructureClaim.Usable || !OperatingSystem.IsLinux())
        {
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(claim.Format());
        if (bytes.Length > 4096)
        {
            Forget(); // more sets than a reader reads: no claim (each fwmark mark adds three names)
            return;
        }

        try
        {
            // 0600 like everything else in the state directory (docs/records.md).
            using var stream = new FileStream(Path, new FileStreamOptions
            {
                Mode = FileMode.OpenOrCreate,
                Access = FileAccess.Write,
                Share = FileShare.ReadWrite,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                BufferSize = 0,
            });
            RandomAccess.Write(stream.SafeFileHandle, bytes, 0);
            RandomAccess.SetLength(stream.SafeFileHandle, bytes.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Forget();
        }
    }

    /// <summary>Removes the claim (a call that repaired, or could not write it whole).</summary>
    public void Forget()
    {
        try
        {
            File.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing left to do: a claim whose generation has passed is never accepted anyway.
        }
    }
}
