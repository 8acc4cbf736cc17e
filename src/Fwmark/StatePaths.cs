using Fwmark.Linux.Records;

namespace Fwmark;

/// <summary>
/// Where the plugin keeps node state: its lock and its attachment records, all under one directory,
/// default /run/fwmark (FileAttachmentRecordStore says why /run). FWMARK_RUN_DIR moves it: the test
/// beds give every run its own directory so no test touches the machine's /run/fwmark. libcni passes
/// the runtime's environment to plugins, so a runtime could set it too; the plugin, reconcile and the
/// agent must then all see the same value.
/// </summary>
internal static class StatePaths
{
    public const string EnvironmentVariable = "FWMARK_RUN_DIR";

    public static string Root =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } dir ? Path.GetFullPath(dir) : FileAttachmentRecordStore.DefaultRoot;

    public static string LockPath => Path.Combine(Root, "fwmark.lock");

    public static FileAttachmentRecordStore Records() => new(Root);
}
