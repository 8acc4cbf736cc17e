using System.Net;

namespace Fwmark.Core.Tests.Fakes;

/// <summary>Records every IDataplane call in order; answers Verify/Collect/Probe as configured.</summary>
internal sealed class RecordingDataplane : IDataplane
{
    public List<object> Calls { get; } = [];

    public IReadOnlyList<string> VerifyProblems { get; set; } = [];

    public int CollectResult { get; set; }

    public Exception? ProbeFailure { get; set; }

    /// <summary>When set, Install records the call and then throws it.</summary>
    public Exception? InstallFailure { get; set; }

    /// <summary>When set, Verify answers with this function instead of <see cref="VerifyProblems"/>.</summary>
    public Func<AttachmentOwner, IReadOnlyList<string>>? VerifyAnswer { get; set; }

    public void Install(AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark)
    {
        Calls.Add(new Installed(owner, [.. addresses], mark));
        if (InstallFailure is not null)
        {
            throw InstallFailure;
        }
    }

    public void Remove(AttachmentOwner owner, IReadOnlyList<IPAddress>? addresses) =>
        Calls.Add(new Removed(owner, addresses is null ? null : [.. addresses]));

    public IReadOnlyList<string> Verify(AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark)
    {
        Calls.Add(new Verified(owner, [.. addresses], mark));
        return VerifyAnswer?.Invoke(owner) ?? VerifyProblems;
    }

    public int Collect(string network, IReadOnlyCollection<AttachmentOwner> valid)
    {
        Calls.Add(new Collected(network, [.. valid]));
        return CollectResult;
    }

    public void Probe()
    {
        Calls.Add(new Probed());
        if (ProbeFailure is not null)
        {
            throw ProbeFailure;
        }
    }

    internal sealed record Installed(AttachmentOwner Owner, List<IPAddress> Addresses, MarkSpec Mark);

    internal sealed record Removed(AttachmentOwner Owner, List<IPAddress>? Addresses);

    internal sealed record Verified(AttachmentOwner Owner, List<IPAddress> Addresses, MarkSpec Mark);

    internal sealed record Collected(string Network, List<AttachmentOwner> Valid);

    internal sealed record Probed;
}
