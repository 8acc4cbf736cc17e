using Fwmark.Cni;

namespace Fwmark.Core.Config;

/// <summary>
/// Collects every problem in a config so the operator fixes them in one round instead of one per
/// failed pod start. Each problem is one line: "&lt;json path&gt;: &lt;value&gt; &lt;what is wrong&gt;".
/// </summary>
internal sealed class ConfigProblems
{
    private readonly List<string> _problems = [];

    public void Invalid(string path, string problem) => _problems.Add($"{path}: {problem}");

    public void ThrowIfAny()
    {
        if (_problems.Count == 0)
        {
            return;
        }

        var more = _problems.Count - 1;
        var suffix = more switch
        {
            0 => "",
            1 => " (and 1 more problem)",
            _ => $" (and {more} more problems)",
        };
        throw new CniException(CniErrorCodes.InvalidNetworkConfig, $"invalid fwmark config: {_problems[0]}{suffix}", string.Join('\n', _problems));
    }
}
