using Fwmark.Core.Routing;

namespace Fwmark.Core.Tests.Fakes;

/// <summary>
/// Records IRouting calls into a call list it may share with <see cref="RecordingDataplane"/>, so tests
/// can assert the order of routing and dataplane work; answers with the configured warnings/problems.
/// </summary>
internal sealed class RecordingRouting(List<object> calls) : IRouting
{
    public IReadOnlyList<string> EnsureWarnings { get; set; } = [];

    public IReadOnlyList<string> VerifyProblems { get; set; } = [];

    public IReadOnlyList<string> Ensure(MarkSpec mark, RouteSpec route)
    {
        calls.Add(new Ensured(mark, route));
        return EnsureWarnings;
    }

    public IReadOnlyList<string> Verify(MarkSpec mark, RouteSpec route)
    {
        calls.Add(new RouteVerified(mark, route));
        return VerifyProblems;
    }

    internal sealed record Ensured(MarkSpec Mark, RouteSpec Route);

    internal sealed record RouteVerified(MarkSpec Mark, RouteSpec Route);
}
