namespace Fwmark.Core;

/// <summary>Plugin-specific CNI error codes; the spec reserves 0–99, so ours start at 100.</summary>
public static class FwmarkErrorCodes
{
    /// <summary>CHECK found the kernel state of an attachment different from what ADD installs.</summary>
    public const int StateMismatch = 100;

    /// <summary>
    /// ADD/CHECK cannot tell which host-side interface carries the pod's packets: prevResult names one the
    /// kernel does not have, or one that is not the peer of the pod's interface. Refused rather than guessed.
    /// </summary>
    public const int PathUnknown = 101;
}
