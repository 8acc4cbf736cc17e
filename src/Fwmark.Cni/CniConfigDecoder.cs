using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Cni;

/// <summary>
/// stdin (the plugin's network config with the runtime's injected keys) → the parts of a
/// <see cref="CniRequest"/>. Every failure is a <see cref="CniException"/> with the spec's code.
/// </summary>
internal static class CniConfigDecoder
{
    public const string ValidAttachmentsKey = "cni.dev/valid-attachments";

    /// <summary>The spelling libcni sent before the rename; libcni now sends both (cni#1101).</summary>
    public const string LegacyAttachmentsKey = "cni.dev/attachments";

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        // A config with two "name" or two "prevResult" keys is ambiguous; refuse it rather than guess.
        AllowDuplicateProperties = false,
    };

    /// <summary>The whole of stdin as a JSON object, or code 6.</summary>
    public static JsonObject Parse(ReadOnlySpan<byte> stdin)
    {
        if (stdin.StartsWith("\uFEFF"u8))
        {
            stdin = stdin[3..];
        }

        stdin = stdin.Trim(" \t\r\n"u8);
        if (stdin.IsEmpty)
        {
            throw DecodeFailure("stdin is empty");
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(stdin, documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            throw DecodeFailure($"stdin is not valid JSON: {JsonProblem.Describe(e)}");
        }
        catch (InvalidOperationException)
        {
            // The duplicate-key check decodes every key: one that is not text fails there.
            throw DecodeFailure("the config: a key holds invalid UTF-8 or a lone UTF-16 surrogate (an escape such as \\ud800 that is not half of a pair), which is not text");
        }

        return node as JsonObject ?? throw DecodeFailure($"expected a JSON object, got {CniJson.KindOf(node)}");
    }

    /// <summary>
    /// "cniVersion" for replies (VERSION, error JSON): the config's string when it is a well-formed
    /// version, else null. Never throws.
    /// </summary>
    public static string? PeekVersion(JsonObject? config) =>
        config?["cniVersion"] is JsonValue value
        && value.GetValueKind() == JsonValueKind.String
        && TextValidation.Problem(value, "cniVersion") is null
        && CniVersion.TryParse(value.GetValue<string>(), out _)
            ? value.GetValue<string>()
            : null;

    /// <summary>Builds the request; checks run in the order version, name, verb gating, the rest.</summary>
    public static CniRequest Decode(CniCommand command, AttachmentEnv attachment, string? cniArgs, JsonObject config)
    {
        config = RequireText(command, config);
        string version;
        try
        {
            version = CniJson.OptionalString(config, "cniVersion", "") ?? "";
        }
        catch (FormatException e)
        {
            throw DecodeFailure(e.Message);
        }

        var implied = version.Length == 0;
        if (implied)
        {
            version = CniVersions.Implied;
        }

        CniVersions.Require(version, implied, command);
        var name = ReadName(config);

        return new CniRequest
        {
            Command = command,
            ContainerId = attachment.ContainerId,
            Netns = attachment.Netns,
            IfName = attachment.IfName,
            Args = CniArgs.Parse(cniArgs),
            CniVersion = version,
            NetworkName = name,
            Config = config,
            PrevResult = ReadPrevResult(config, version, lenient: command == CniCommand.Del),
            RuntimeConfig = ReadRuntimeConfig(config, lenient: command == CniCommand.Del),
            ValidAttachments = command == CniCommand.Gc ? ReadAttachments(config) : null,
        };
    }

    /// <summary>
    /// Every key and string must be text (<see cref="TextValidation"/>). DEL keeps its leniency: a
    /// prevResult or runtimeConfig that is not text is dropped, as an unreadable one is.
    /// </summary>
    private static JsonObject RequireText(CniCommand command, JsonObject config)
    {
        if (TextValidation.Problem(config, "") is not { } problem)
        {
            return config;
        }

        if (command == CniCommand.Del)
        {
            foreach (var key in new[] { "prevResult", "runtimeConfig" })
            {
                if (TextValidation.Problem(config[key], key) is not null)
                {
                    config.Remove(key);
                }
            }

            problem = TextValidation.Problem(config, "");
        }

        return problem is null ? config : throw DecodeFailure(problem);
    }

    private static string ReadName(JsonObject config)
    {
        var name = config["name"] switch
        {
            null => "",
            JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
            var other => throw InvalidConfig($"network name must be a string, got {CniJson.KindOf(other)}"),
        };

        if (name.Length == 0)
        {
            throw InvalidConfig("missing network name");
        }

        return CniNames.IdentifierProblem(name) is { } problem
            ? throw InvalidConfig($"network name \"{name}\" is invalid: {problem}")
            : name;
    }

    /// <param name="lenient">
    /// DEL: an unreadable prevResult is treated as absent. DEL works without one (the plugin finds its
    /// objects by owner), and a failing DEL blocks the teardown of the whole chain (containerd#12130).
    /// </param>
    private static CniResult? ReadPrevResult(JsonObject config, string version, bool lenient)
    {
        var node = config["prevResult"];
        if (node is null)
        {
            return null; // absent, or null: libcni sends none when its cache was lost
        }

        try
        {
            return CniResult.Parse(node, version);
        }
        catch (FormatException) when (lenient)
        {
            return null;
        }
        catch (FormatException e)
        {
            throw DecodeFailure($"prevResult: {e.Message}");
        }
    }

    private static JsonObject? ReadRuntimeConfig(JsonObject config, bool lenient) => config["runtimeConfig"] switch
    {
        null => null,
        JsonObject runtimeConfig => runtimeConfig,
        _ when lenient => null,
        var other => throw DecodeFailure($"runtimeConfig: must be an object, got {CniJson.KindOf(other)}"),
    };

    /// <summary>
    /// The GC keep-list. Neither key present means the caller gave no list at all (e.g. `cnitool gc`),
    /// which is not the same as an empty list: the plugin decides what that means, so keep it null.
    /// </summary>
    private static List<GcAttachment>? ReadAttachments(JsonObject config)
    {
        var key = config[ValidAttachmentsKey] is not null ? ValidAttachmentsKey
            : config[LegacyAttachmentsKey] is not null ? LegacyAttachmentsKey
            : null;
        if (key is null)
        {
            return null;
        }

        if (config[key] is not JsonArray array)
        {
            throw DecodeFailure($"{key}: must be an array, got {CniJson.KindOf(config[key])}");
        }

        var attachments = new List<GcAttachment>(array.Count);
        for (var i = 0; i < array.Count; i++)
        {
            var path = $"{key}[{i}]";
            if (array[i] is not JsonObject entry)
            {
                throw DecodeFailure($"{path}: must be an object, got {CniJson.KindOf(array[i])}");
            }

            try
            {
                var containerId = CniJson.OptionalString(entry, "containerID", path + ".");
                var ifName = CniJson.OptionalString(entry, "ifname", path + ".");
                attachments.Add(containerId is null || ifName is null
                    ? throw new FormatException($"{path}: needs both \"containerID\" and \"ifname\"")
                    : new GcAttachment(containerId, ifName));
            }
            catch (FormatException e)
            {
                throw DecodeFailure(e.Message);
            }
        }

        return attachments;
    }

    private static CniException DecodeFailure(string cause) =>
        new(CniErrorCodes.DecodeFailure, $"failed to decode network config: {cause}");

    private static CniException InvalidConfig(string cause) =>
        new(CniErrorCodes.InvalidNetworkConfig, $"failed to validate network config: {cause}");
}
