using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Microsoft.Win32.SafeHandles;

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
/// structure (4–6 netlink requests and the rule comparison: docs/benchmarks.md). Any other generation is a miss and
/// the call reads and compares everything, as without a claim.
///
/// Where a claim comes from (Dataplane/NftDataplane.cs): only from a call that read the tables and found no drift at
/// its generation g, or that used a claim for g; if that call then committed only element changes
/// (<see cref="NfTables.NftOperation.ChangesStructure"/>) with the generation check, the structure is exactly as
/// before at g + 1, and the claim moves on to g + 1. A call that repaired anything makes no claim: the next call
/// reads again and makes one only if the repair left nothing to find.
/// <see cref="Build"/> ties the claim to this build's idea of the structure: another fwmark version wants other rules.
/// </summary>
internal sealed record StructureClaim(Guid Build, ulong Netns, uint Generation, IReadOnlyList<string> SetNames, bool Bridge)
{
    /// <summary>
    /// This build's identity: the module version IDs of the assemblies that define the wanted structure (rules and
    /// sets here, mark and chain naming in Fwmark.Core). Deterministic builds give the same source the same ID.
    /// </summary>
    public static Guid ThisBuild { get; } = Combine(typeof(StructureClaim), typeof(Core.MarkSpec));

    private static Guid Combine(params Type[] types)
    {
        var bytes = types.SelectMany(t => t.Assembly.ManifestModule.ModuleVersionId.ToByteArray()).ToArray();
        return new Guid(XxHash128.Hash(bytes));
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
        var body = string.Join(' ', Magic, Build.ToString("N"), Netns.ToString(CultureInfo.InvariantCulture), Generation.ToString(CultureInfo.InvariantCulture),
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
        if (fields.Length != 6 || fields[0] != Magic
            || !Guid.TryParseExact(fields[1], "N", out var build)
            || !ulong.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var netns)
            || !uint.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            || fields[4] is not ("bridge" or "no-bridge"))
        {
            return null;
        }

        var sets = fields[5].Length == 0 ? [] : fields[5].Split(',');
        return new StructureClaim(build, netns, generation, sets, fields[4] == "bridge");
    }

    private static string Checksum(string body) => XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(body)).ToString("x16", CultureInfo.InvariantCulture);
}

/// <summary>
/// Where claims live: one small file beside the plugin's lock (the state directory, /run/fwmark on a node). Written
/// in place under the lock with one pwrite (no temporary file and rename: this is on every ADD and DEL, and a torn
/// read fails the checksum, which is a miss). Everything here is best effort: a claim that cannot be read or
/// written is a miss, never an error, since the call then does the full read it would do without claims.
/// </summary>
internal sealed class StructureClaimFile(string directory)
{
    public const string FileName = "nftables-verified";

    public string Path { get; } = System.IO.Path.Combine(directory, FileName);

    /// <summary>The claim for this build, <paramref name="netns"/> and <paramref name="generation"/>, or null.</summary>
    public StructureClaim? Find(ulong? netns, uint generation)
    {
        if (netns is null)
        {
            return null;
        }

        try
        {
            using var handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read);
            Span<byte> buffer = stackalloc byte[4096];
            var read = RandomAccess.Read(handle, buffer, 0);
            return StructureClaim.Parse(Encoding.UTF8.GetString(buffer[..read])) is { } claim
                   && claim.Build == StructureClaim.ThisBuild && claim.Netns == netns && claim.Generation == generation
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
        var bytes = Encoding.UTF8.GetBytes(claim.Format());
        if (bytes.Length > 4096)
        {
            Forget(); // more sets than a reader reads: no claim (each fwmark mark adds three names)
            return;
        }

        try
        {
            using SafeFileHandle handle = File.OpenHandle(Path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
            RandomAccess.Write(handle, bytes, 0);
            RandomAccess.SetLength(handle, bytes.Length);
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
