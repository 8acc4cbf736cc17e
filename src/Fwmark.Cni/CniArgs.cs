namespace Fwmark.Cni;

/// <summary>
/// CNI_ARGS ("K1=V1;K2=V2"). libcni's own parser rejects '=' inside values and unknown keys; runtimes
/// pass their callers' CNI_ARGS through verbatim, so a plugin that wants to keep working reads it
/// leniently and never fails on it.
/// </summary>
public static class CniArgs
{
    /// <summary>
    /// Splits on ';' and then at the first '=' (so values may contain '='). Segments without '=' or with
    /// an empty key are skipped; a repeated key keeps its last value. Keys are case-sensitive.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Parse(string? text)
    {
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var segment in (text ?? "").Split(';'))
        {
            var equals = segment.IndexOf('=');
            if (equals > 0)
            {
                args[segment[..equals]] = segment[(equals + 1)..];
            }
        }

        return args;
    }
}
