namespace Fwmark.Cli;

/// <summary>
/// One <c>--name [VALUE]</c> option. <paramref name="ValueName"/> null makes it a flag; otherwise the
/// option needs a value, given as the next argument or after <c>=</c>.
/// </summary>
public sealed record CliOption(string Name, string? ValueName, string Help)
{
    public const string DefaultConfDir = "/etc/cni/net.d";

    /// <summary>Every command answers it; the parser handles it before anything else.</summary>
    public static readonly CliOption HelpOption = new("--help", null, "print this help and exit 0 (also -h)");

    /// <summary>Where the conflists are, for every command that reads them.</summary>
    public static readonly CliOption ConfDir = new("--conf-dir", "DIR", $"the CNI config dir to read (default {DefaultConfDir})");

    /// <summary>Machine-readable output on stdout (the documented, stable shape of each command).</summary>
    public static readonly CliOption Json = new("--json", null, "print JSON instead of text");

    public bool IsFlag => ValueName is null;

    public override string ToString() => IsFlag ? Name : $"{Name} {ValueName}";
}
