using System.Net;
using Fwmark.Core.Paths;

namespace Fwmark.Core.Tests.Fakes;

/// <summary>Records every IDataplane call in order; answers Verify/Collect/Probe as configured.</summary>
internal sealed class RecordingDataplane : IDataplane
{
    public List<object> Calls { get; } = [];

    /// <summary>The path of every InstallTarget/VerifyTarget call, in order.</summary>
    public List<AttachmentPath> Paths { get; } = [];

    /// <summary>The interface keys of every RemoveKeys call (null = scan), in order.</summary>
    public List<IReadOnlyList<string>?> RemovedInterfaces { get; } = [];

    public IReadOnlyList<string> VerifyProblems { get; set; } = [];

    public int CollectResult { get; set; }

    public Exception? ProbeFailure { get; set; }

    /// <summary>When set, InstallTarget records the call and then throws it.</summary>
    public Exception? InstallFailure { get; set; }

    /// <summary>When set, VerifyTarget answers with this function instead of <see cref="VerifyProblems"/>.</summary>
    public Func<AttachmentOwner, IReadOnlyList<string>>? VerifyAnswer { get; set; }

    public void InstallTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark)
    {
        Paths.Add(target.Path);
        Calls.Add(new Installed(owner, [.. target.Addresses], mark));
        if (InstallFailure is not null)
        {
            throw InstallFailure;
        }
    }

    public void RemoveKeys(AttachmentOwner owner, AttachmentKeys? keys)
    {
        RemovedInterfaces.Add(keys?.Interfaces);
        Calls.Add(new Removed(owner, keys is null ? null : [.. keys.Addresses]));
    }

    public IReadOnlyList<string> VerifyTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark)
    {
        Paths.Add(target.Path);
        Calls.Add(new Verified(owner, [.. target.Addresses], mark));
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
