using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Core.Config;

namespace Fwmark.Core.Logging;

/// <summary>How much goes into the log file: each level includes the ones above it.</summary>
public enum LogLevel
{
    /// <summary>Only invocations that failed.</summary>
    Error,

    /// <summary>Failures, and successes with a warning (a VPN default route that could not be added yet).</summary>
    Warn,

    /// <summary>One line per invocation (the default).</summary>
    Info,

    /// <summary>As info, plus error details and the plugin's decision text.</summary>
    Debug,
}

/// <summary>
/// The optional <c>logFile</c> and <c>logLevel</c> keys of the plugin object. <see cref="Parse"/> validates them
/// for ADD/CHECK with the rest of the config; <see cref="ReadLenient"/> takes them as they are for every verb
/// (DEL, GC and STATUS do not validate the config), so a key that is wrong simply means "no log line".
/// </summary>
public sealed record LogSettings(string? File, LogLevel Level)
{
    public const string FileKey = "logFile";
    public const string LevelKey = "logLevel";

    public static readonly LogSettings None = new(null, LogLevel.Info);

    public static LogSettings ReadLenient(JsonObject plugin)
    {
        var file = plugin[FileKey] is JsonValue f && f.GetValueKind() == JsonValueKind.String ? f.GetValue<string>() : null;
        if (file is null || !IsValidPath(file))
        {
            return None;
        }

        var level = plugin[LevelKey] is JsonValue l && l.GetValueKind() == JsonValueKind.String && TryLevel(l.GetValue<string>(), out var parsed) ? parsed : LogLevel.Info;
        return new LogSettings(file, level);
    }

    internal static LogSettings Parse(JsonObject plugin, ConfigProblems problems)
    {
        string? file = null;
        if (plugin[FileKey] is { } fileNode)
        {
            if (fileNode.GetValueKind() != JsonValueKind.String)
            {
                problems.Invalid(FileKey, $"{ConfigJson.Render(fileNode)} is not a string (expected an absolute file path)");
            }
            else if (!IsValidPath(fileNode.GetValue<string>()))
            {
                problems.Invalid(FileKey, $"{ConfigJson.Render(fileNode)} is not an absolute file path (expected e.g. \"/var/log/fwmark.log\")");
            }
            else
            {
                file = fileNode.GetValue<string>();
            }
        }

        var level = LogLevel.Info;
        if (plugin[LevelKey] is { } levelNode
            && (levelNode.GetValueKind() != JsonValueKind.String || !TryLevel(levelNode.GetValue<string>(), out level)))
        {
            problems.Invalid(LevelKey, $"{ConfigJson.Render(levelNode)} is not a log level (expected \"error\", \"warn\", \"info\" or \"debug\")");
        }

        return new LogSettings(file, level);
    }

    public static string Name(LogLevel level) => level switch
    {
        LogLevel.Error => "error",
        LogLevel.Warn => "warn",
        LogLevel.Debug => "debug",
        _ => "info",
    };

    private static bool TryLevel(string text, out LogLevel level)
    {
        level = text switch
        {
            "error" => LogLevel.Error,
            "warn" => LogLevel.Warn,
            "info" => LogLevel.Info,
            "debug" => LogLevel.Debug,
            _ => (LogLevel)(-1),
        };
        return level >= 0;
    }

    private static bool IsValidPath(string path) =>
        path.Length > 1 && path[0] == '/' && !path.EndsWith('/') && !path.Contains('\0', StringComparison.Ordinal);
}
