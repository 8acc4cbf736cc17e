namespace Fwmark.Cni.Tests;

/// <summary>Records every verb the dispatcher calls; <see cref="OnCall"/> lets a test make a verb fail.</summary>
internal sealed class FakePlugin : ICniPlugin
{
    public List<(CniCommand Verb, CniRequest Request)> Calls { get; } = [];

    public Action<CniRequest>? OnCall { get; init; }

    public CniRequest Single(CniCommand verb)
    {
        var call = Assert.Single(Calls);
        Assert.Equal(verb, call.Verb);
        return call.Request;
    }

    public void Add(CniRequest request) => Record(CniCommand.Add, request);

    public void Del(CniRequest request) => Record(CniCommand.Del, request);

    public void Check(CniRequest request) => Record(CniCommand.Check, request);

    public void Gc(CniRequest request) => Record(CniCommand.Gc, request);

    public void Status(CniRequest request) => Record(CniCommand.Status, request);

    private void Record(CniCommand verb, CniRequest request)
    {
        Calls.Add((verb, request));
        OnCall?.Invoke(request);
    }
}
