using Fwmark.Cni;

namespace Fwmark.Core.Config;

/// <summary>
/// Collects every problem in a config so the operator fixes them in one round instead of one per
/// failed pod start. Each problem is one line: "&lt;json path&gt;: &lt;value&gt; &lt;what is wrong&gt;".
/// </summary>
internal sealed class ConfigProblems
{
    private readonly List<string> _invalid = [];
    private readonly List<string> _unsupported = [];

    public void Invalid(string path, string problem) => _invalid.Add($"{path}: {problem}");

    /// <summary>A valid setting this version cannot honour yet: refused, never silently ignored.</summary>
    public void Unsupported(string path, string problem) => _unsupported.Add($"{path}: {problem}");

    /// <summary>
    /// Invalid values win over unsupported ones (code 7 over code 2): fixing the config is needed
    /// either way, and code 2 should mean "this config is right, the plugin is too old".
    /// </summary>
    public void ThrowIfAny()
    {
        if (_invalid.Count > 0)
        {
            throw Build(CniErrorCodes.InvalidNetworkConfig, "invalid fwmark config", [.. _invalid, .. _unsupported]);
        }

        if (_unsupported.Count > 0)
        {
            throw Build(CniErrorCodes.UnsupportedField, "unsupported fwmark config", _unsupported);
        }
    }

    private static CniException Build(int code, string what, List<string> problems)
    {
        var more = problems.Count - 1;
        var suffix = more switch
        {
            0 => "",
            1 => " (and 1 more problem)",
            _ => $" (and {more} more problems)",
        };
        return new CniException(code, $"{what}: {problems[0]}{suffix}", string.Join('\n', problems));
    }
}
