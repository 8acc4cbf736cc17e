namespace Fwmark.Cni;

/// <summary>
/// Which spec versions this plugin speaks and which verbs each allows (the gating rules of libcni's skel).
/// </summary>
public static class CniVersions
{
    /// <summary>
    /// 0.1.0/0.2.0 are left out on purpose: their configs can never carry a prevResult, so a chained
    /// plugin has nothing to do there.
    /// </summary>
    public static IReadOnlyList<string> Supported { get; } = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    /// <summary>The newest supported version: the VERSION reply and error JSON use it when the request names none.</summary>
    public const string Latest = "1.1.0";

    /// <summary>What a config without "cniVersion" means (libcni decodes it as 0.1.0).</summary>
    public const string Implied = "0.1.0";

    /// <summary>CHECK arrived in 0.4.0.</summary>
    public static readonly CniVersion CheckSince = new(0, 4, 0);

    /// <summary>GC and STATUS arrived together in 1.1.0.</summary>
    public static readonly CniVersion GcAndStatusSince = new(1, 1, 0);

    public static bool IsSupported(string version) => Supported.Contains(version, StringComparer.Ordinal);

    public static bool AtLeast(string version, CniVersion minimum) => CniVersion.Parse(version) >= minimum;

    /// <summary>The lowest config version that allows <paramref name="command"/>; null when every supported one does.</summary>
    public static CniVersion? MinimumFor(CniCommand command) => command switch
    {
        CniCommand.Check => CheckSince,
        CniCommand.Gc or CniCommand.Status => GcAndStatusSince,
        _ => null,
    };

    /// <summary>Code 1 unless <paramref name="version"/> is supported and allows <paramref name="command"/>.</summary>
    internal static void Require(string version, bool implied, CniCommand command)
    {
        if (!IsSupported(version))
        {
            var config = implied ? $"config has no cniVersion (read as \"{version}\")" : $"config is \"{version}\"";
            throw new CniException(
                CniErrorCodes.IncompatibleVersion,
                $"incompatible CNI versions: {config}, plugin supports {string.Join(", ", Supported)}");
        }

        if (MinimumFor(command) is { } minimum && !AtLeast(version, minimum))
        {
            throw new CniException(
                CniErrorCodes.IncompatibleVersion,
                $"incompatible CNI versions: {CniEnvironment.VerbOf(command)} needs cniVersion {minimum} or later, config is \"{version}\"");
        }
    }
}
