using System.Text.Json.Nodes;

namespace Fwmark.Cni;

/// <summary>
/// One CNI invocation end to end, in the spirit of libcni's skel: environment and stdin in, plugin
/// call, result or error JSON out. Every protocol rule lives here or below (required variables per
/// verb, version support and gating, result formats, error codes), so a plugin only implements its
/// verbs, and the whole protocol is testable with in-memory streams.
/// </summary>
public static class CniDispatcher
{
    /// <summary>
    /// Runs the verb named by CNI_COMMAND and returns the exit code: 0 on success, 1 after printing CNI
    /// error JSON to <paramref name="stdout"/>. Never throws: an unexpected exception becomes code 999
    /// (its stack trace goes to <paramref name="stderr"/>, never to stdout, which the runtime parses).
    /// </summary>
    public static int Run(
        ICniPlugin plugin,
        IReadOnlyDictionary<string, string?> env,
        Stream stdin,
        TextWriter stdout,
        TextWriter stderr)
    {
        string? replyVersion = null;
        try
        {
            var input = ReadAll(stdin);
            JsonObject? config = null;
            CniException? configError = null;
            try
            {
                config = CniConfigDecoder.Parse(input);
                replyVersion = CniConfigDecoder.PeekVersion(config);
            }
            catch (CniException e)
            {
                configError = e; // reported after the environment, which skel checks first
            }

            var command = CniEnvironment.ReadCommand(env);
            if (command == CniCommand.Version)
            {
                // VERSION accepts any stdin, even none: runtimes probe plugins with it.
                WriteLine(stdout, VersionReply(replyVersion ?? CniVersions.Latest));
                return 0;
            }

            var attachment = CniEnvironment.ReadAttachment(command, env);
            var request = CniConfigDecoder.Decode(
                command,
                attachment,
                env.GetValueOrDefault(CniEnvironment.Args),
                config ?? throw configError!);
            replyVersion = request.CniVersion;

            Invoke(plugin, request);
            if (command == CniCommand.Add)
            {
                // A chained plugin passes the previous result on, re-encoded in the version it was asked
                // for. Without a prevResult the plugin has already refused (or chose to go on): then
                // the honest result is an empty one.
                WriteLine(stdout, (request.PrevResult ?? CniResult.Empty).ToJson(request.CniVersion));
            }

            return 0;
        }
        catch (CniException e)
        {
            return Fail(stdout, stderr, replyVersion, e.Code, e.Message, e.Details);
        }
        catch (Exception e)
        {
            TryWrite(stderr, e.ToString());
            return Fail(stdout, stderr, replyVersion, CniErrorCodes.Internal, e.Message, null);
        }
    }

    private static void Invoke(ICniPlugin plugin, CniRequest request)
    {
        switch (request.Command)
        {
            case CniCommand.Add:
                plugin.Add(request);
                break;
            case CniCommand.Del:
                plugin.Del(request);
                break;
            case CniCommand.Check:
                plugin.Check(request);
                break;
            case CniCommand.Gc:
                plugin.Gc(request);
                break;
            case CniCommand.Status:
                plugin.Status(request);
                break;
            default:
                throw new InvalidOperationException($"failed to dispatch verb {request.Command}: no plugin entry point");
        }
    }

    /// <summary>All of stdin, however large: the runtime writes it before waiting on us.</summary>
    private static byte[] ReadAll(Stream stdin)
    {
        using var buffer = new MemoryStream();
        try
        {
            stdin.CopyTo(buffer);
        }
        catch (IOException e)
        {
            throw new CniException(CniErrorCodes.IoFailure, $"failed to read stdin: {e.Message}");
        }

        return buffer.ToArray();
    }

    private static JsonObject VersionReply(string version) => new()
    {
        ["cniVersion"] = version,
        ["supportedVersions"] = new JsonArray([.. CniVersions.Supported.Select(v => (JsonNode)v)]),
    };

    /// <summary>The spec's error object; "cniVersion" is the request's when known.</summary>
    internal static JsonObject ErrorJson(string? version, int code, string msg, string? details)
    {
        var error = new JsonObject
        {
            ["cniVersion"] = version ?? CniVersions.Latest,
            ["code"] = code,
            ["msg"] = msg,
        };
        if (details is not null)
        {
            error["details"] = details;
        }

        return error;
    }

    /// <summary>Longest msg and details an error carries: whatever value a message quotes, the reply stays readable.</summary>
    internal const int MaxMessageChars = 1000;

    internal const int MaxDetailsChars = 8000;

    private static int Fail(TextWriter stdout, TextWriter stderr, string? version, int code, string msg, string? details)
    {
        msg = Text.Cut(msg, MaxMessageChars);
        details = details is null ? null : Text.Cut(details, MaxDetailsChars);
        try
        {
            WriteLine(stdout, ErrorJson(version, code, msg, details));
        }
        catch (Exception e)
        {
            // stdout is gone (closed pipe): stderr is all the runtime may still show.
            TryWrite(stderr, $"failed to write CNI error {code} \"{msg}\": {e.Message}");
        }

        return 1;
    }

    private static void WriteLine(TextWriter writer, JsonNode node)
    {
        writer.Write(CniJson.Serialize(node));
        writer.Write('\n');
        writer.Flush();
    }

    private static void TryWrite(TextWriter writer, string text)
    {
        try
        {
            writer.WriteLine(text);
            writer.Flush();
        }
        catch (Exception)
        {
            // Nothing left to report to.
        }
    }
}
