using System.Text.Json.Nodes;

namespace Fwmark.Core.Config;

/// <summary>
/// The keys fwmark reads, and the checks that catch typos in them. Found by review: "rout" inside a
/// mark marked the pod but made no routing, and "defaultmark" at the top marked nothing, both with exit 0.
/// </summary>
internal static class KnownKeys
{
    /// <summary>fwmark's own top-level keys (the runtime's — type, name, cniVersion, capabilities, ... — are not checked).</summary>
    public static readonly string[] TopLevel = ["marks", "defaultMark", "namespaces", "connmark", "logFile", "logLevel"];

    public static readonly string[] Mark = ["mark", "mask", "route"];

    public static readonly string[] Route = ["table", "gateway", "device", "priority", "failClosed"];

    /// <summary>A top-level key that is one of ours in another case is a typo; any other key belongs to someone else.</summary>
    public static void CheckTopLevel(JsonObject plugin, ConfigProblems problems)
    {
        foreach (var (key, _) in plugin)
        {
            var ours = TopLevel.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
            if (ours is not null && ours != key)
            {
                problems.Invalid(ConfigJson.Member("", key), $"is not a fwmark key; did you mean {ConfigJson.Quote(ours)}? (keys are case-sensitive)");
            }
        }
    }

    /// <summary>Every key of <paramref name="obj"/> must be in <paramref name="known"/>; returns false after adding a problem per stranger.</summary>
    public static bool CheckExact(string path, JsonObject obj, string[] known, string what, ConfigProblems problems)
    {
        var ok = true;
        foreach (var (key, _) in obj)
        {
            if (known.Contains(key, StringComparer.Ordinal))
            {
                continue;
            }

            var near = known.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase) || IsNear(k, key));
            var hint = near is null ? "" : $"did you mean {ConfigJson.Quote(near)}? ";
            problems.Invalid(ConfigJson.Member(path, key), $"is not a key of {what} ({hint}expected one of {string.Join(", ", known)})");
            ok = false;
        }

        return ok;
    }

    /// <summary>One letter dropped, added or changed ("rout", "gatway", "tabel" is not caught: that is fine, the list is printed).</summary>
    private static bool IsNear(string known, string key)
    {
        var (a, b) = (known.ToLowerInvariant(), key.ToLowerInvariant());
        if (Math.Abs(a.Length - b.Length) > 1)
        {
            return false;
        }

        var i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i])
        {
            i++;
        }

        return a.Length == b.Length ? a[(i + 1)..] == b[(Math.Min(i + 1, b.Length))..]
            : a.Length > b.Length ? a[(i + 1)..] == b[i..]
            : a[i..] == b[(i + 1)..];
    }
}
