using Grpc.Core;

namespace Fwmark.Cri;

/// <summary>A CRI call failed; <see cref="Detail"/> is the runtime's error text (for RunPodSandbox it carries the CNI error).</summary>
public sealed class CriException : Exception
{
    public CriException(string message, StatusCode code, string detail, Exception inner)
        : base(message, inner)
    {
        Code = code;
        Detail = detail;
    }

    public StatusCode Code { get; }

    public string Detail { get; }
}
