namespace Fwmark.Cri;

/// <summary>
/// A sandbox as PodSandboxStatus reports it: <paramref name="Ips"/> is the primary address first, then the
/// additional ones (the other family); <paramref name="NetnsPath"/> is null when the runtime did not say.
/// <paramref name="RawInfo"/> is the runtime's verbose JSON, for failure messages.
/// </summary>
public sealed record PodSandboxInfo(string Id, bool Ready, IReadOnlyList<string> Ips, string? NetnsPath, string RawInfo);
