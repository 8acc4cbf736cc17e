using System.Text.Json.Nodes;

namespace Fwmark.Testbed.Cni;

/// <summary>The plugin execs of one verb over a chain, in the order they ran; stops at the first failure.</summary>
public sealed record CniChainResult(string Command, IReadOnlyList<CniExecResult> Steps)
{
    public bool Succeeded => Steps.All(s => s.Succeeded);

    public CniExecResult? Failed => Steps.FirstOrDefault(s => !s.Succeeded);

    /// <summary>ADD: the last plugin's stdout, i.e. the result a runtime would store.</summary>
    public JsonObject? Result => Steps.Count > 0 ? Steps[^1].Json : null;

    public CniChainResult EnsureSuccess()
    {
        if (!Succeeded)
        {
            throw new TestbedException($"failed to run chain {Command}:\n{Describe()}");
        }

        return this;
    }

    public string Describe() => string.Join("\n", Steps.Select(s => s.Describe()));
}
