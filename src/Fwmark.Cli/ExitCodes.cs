namespace Fwmark.Cli;

/// <summary>
/// The exit codes of every operator command, one meaning each, so scripts (a VPN up-hook, a systemd
/// unit, a monitoring probe) can tell "the node is wrong" from "I called it wrong" from "fwmark is broken".
/// </summary>
public static class ExitCodes
{
    /// <summary>Done; the node matches (reconcile), is healthy (doctor).</summary>
    public const int Ok = 0;

    /// <summary>The command ran and found the node or its config wrong, or could not read what it needs.</summary>
    public const int Failed = 1;

    /// <summary>The command line itself is wrong: unknown command or option, a value missing.</summary>
    public const int Usage = 2;

    /// <summary>An unexpected error inside fwmark (a bug): the message is printed, please report it.</summary>
    public const int Internal = 3;

    /// <summary>The table printed by every <c>--help</c>.</summary>
    public static readonly IReadOnlyList<(int Code, string Name, string Meaning)> All =
    [
        (Ok, "ok", "done; the node matches the config / is healthy"),
        (Failed, "failed", "the node or its config is wrong, or a file could not be read (explained on stdout/stderr)"),
        (Usage, "usage", "the command line is wrong (unknown command or option, missing value)"),
        (Internal, "internal", "unexpected error inside fwmark (a bug; the message is printed)"),
    ];
}
