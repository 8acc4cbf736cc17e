using Fwmark.Testbed;

namespace Fwmark.Runtimes.Tests.Infrastructure;

/// <summary>
/// The attachment records the plugin wrote in this run's state directory (FWMARK_RUN_DIR of the node namespace,
/// which the runtime passes on to the plugins it execs): proof that the runtime's plugins never wrote the machine's
/// /run/fwmark.
/// </summary>
internal static class RunRecords
{
    /// <summary>True when a record in the run's state directory names <paramref name="containerId"/>.</summary>
    public static bool Has(NodeTestbed bed, string containerId) =>
        Directory.Exists(bed.RecordsDir)
        && Directory.EnumerateFiles(bed.RecordsDir, "*.json", SearchOption.AllDirectories)
            .Any(file => File.ReadAllText(file).Contains(containerId, StringComparison.Ordinal));
}
