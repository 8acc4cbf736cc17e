using System.IO.Hashing;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fwmark.Core.Install;

/// <summary>
/// What install changed, kept at <see cref="Path"/> on the host: the original bytes of every file it edited
/// or replaced (so uninstall restores them byte for byte), a hash of what it wrote (to tell "still ours" from
/// "the primary rewrote it since"), and the plugin object, which is what the agent's keeper re-derives from.
/// It is written before the files it describes: after a crash in between, the files still hold what the
/// record calls original or written, never something it does not know.
/// </summary>
public sealed record InstallRecord
{
    public const string Path = "/var/lib/fwmark/install.json";

    public int Version { get; init; } = 1;

    public required string Layout { get; init; }

    public required string ConfDir { get; init; }

    public required string BinDir { get; init; }

    public required string Mode { get; init; }

    /// <summary>The fwmark element as JSON text.</summary>
    public required string Plugin { get; init; }

    /// <summary>Host path of the installed binary; null when install did not place one.</summary>
    public string? Binary { get; init; }

    public List<RecordedFile> Files { get; init; } = [];

    public static string Hash(byte[] bytes) => Convert.ToHexStringLower(XxHash128.Hash(bytes));

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, InstallJsonContext.Default.InstallRecord);

    public static InstallRecord FromBytes(byte[] bytes, string where)
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, InstallJsonContext.Default.InstallRecord)
                ?? throw new InstallException($"failed to read install record {where}: empty");
        }
        catch (JsonException e)
        {
            throw new InstallException($"failed to read install record {where}: {e.Message.Split('\n')[0].TrimEnd()}", e);
        }
    }
}

/// <summary>One conflist install wrote. <see cref="Original"/> is base64 of the bytes before, null when the file did not exist.</summary>
public sealed record RecordedFile
{
    public required string Path { get; init; }

    /// <summary>"edit" (fwmark inserted into the primary's file) or "own" (fwmark's derived conflist).</summary>
    public required string Kind { get; init; }

    public string? Original { get; init; }

    public required string Written { get; init; }

    /// <summary>Own conflists: the primary conflist it was derived from.</summary>
    public string? Primary { get; init; }

    [JsonIgnore]
    public byte[]? OriginalBytes => Original is null ? null : Convert.FromBase64String(Original);
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InstallRecord))]
internal sealed partial class InstallJsonContext : JsonSerializerContext;
