namespace Fwmark.Core;

/// <summary>Plugin-specific CNI error codes; the spec reserves 0–99, so ours start at 100.</summary>
public static class FwmarkErrorCodes
{
    /// <summary>CHECK found the kernel state of an attachment different from what ADD installs.</summary>
    public const int StateMismatch = 100;
}
