using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fwmark.Core.Install;

/// <summary>
/// Plans and applies <c>fwmark install</c> / <c>uninstall</c> under a <see cref="HostRoot"/>; the conflist keeper
/// re-runs the same plan when the conf dir changes. Every plan is computed from what the files hold now and the
/// <see cref="InstallRecord"/>, so running it again changes nothing (idempotent), and a primary that rewrote its
/// file since is recognised by its hash and becomes the new "original".
/// </summary>
public sealed class Installer(HostRoot root)
{
    private const UnixFileMode ConfMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode BinMode = ConfMode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode RecordMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public HostRoot Root { get; } = root;

    public InstallRecord? ReadRecord() =>
        Root.ReadBytes(InstallRecord.Path) is { } bytes ? InstallRecord.FromBytes(bytes, Root.Resolve(InstallRecord.Path)) : null;

    /// <param name="binary">The plugin binary to place in the bin dir; null leaves the bin dir alone (the keeper).</param>
    public InstallPlan PlanInstall(CniLayout layout, JsonObject plugin, byte[]? binary)
    {
        var record = ReadRecord();
        var previous = record?.Files.ToDictionary(f => f.Path, StringComparer.Ordinal) ?? [];
        var changes = new List<FileChange>();
        var notes = new List<string>();
        var files = new List<RecordedFile>();

        if (layout.Mode == ConflistMode.OwnConflist)
        {
            var primary = OwnPrimary(layout);
            var primaryBytes = Root.ReadBytes(primary)!;
            var desired = ConflistDeriver.Derive(primaryBytes, primary, plugin);
            files.Add(Track(layout.OwnConflistPath, "own", desired, previous, changes, $"fwmark's own conflist, derived from {primary} (sorts first, so the runtime loads it instead)", primary));
        }
        else
        {
            foreach (var target in EditTargets(layout))
            {
                var current = Root.ReadBytes(target) ?? throw new InstallException($"failed to install into {target}: no such file under {Root.Path}");
                var desired = ConflistText.Upsert(current, plugin, target);
                files.Add(Track(target, "edit", desired, previous, changes, $"fwmark appended to the chain of {target}", null));
            }
        }

        // Files an earlier install touched that this layout no longer wants (a changed layout or network): undo them.
        foreach (var stale in previous.Values.Where(p => files.All(f => f.Path != p.Path)))
        {
            if (Undo(stale, notes) is { } undo)
            {
                changes.Add(undo);
            }
        }

        string? binaryPath = record?.Binary;
        if (binary is not null)
        {
            // Never create the runtime's bin dir: a missing one means the wrong layout, or (in a container) a dir
            // that is not mounted, where a copy would vanish with the container.
            if (!Root.DirectoryExists(layout.BinDir))
            {
                throw new InstallException($"failed to install the binary into {layout.BinDir}: no such directory under {Root.Path} (wrong --layout or --bin-dir? in a container: is it mounted?)");
            }

            binaryPath = layout.BinaryPath;
            var current = Root.ReadBytes(binaryPath);
            if (current is null || !current.AsSpan().SequenceEqual(binary))
            {
                changes.Add(new FileChange(binaryPath, current, binary, BinMode, IsBinary: true, "the plugin binary"));
            }
        }

        var newRecord = new InstallRecord
        {
            Layout = CniLayout.Name(layout.Kind),
            ConfDir = layout.ConfDir,
            BinDir = layout.BinDir,
            Mode = layout.Mode == ConflistMode.OwnConflist ? "own" : "edit",
            Plugin = plugin.ToJsonString(),
            Binary = binaryPath,
            Files = files,
        };
        var recordChanged = record is null || !record.ToBytes().AsSpan().SequenceEqual(newRecord.ToBytes());
        return new InstallPlan(changes, recordChanged ? newRecord : null, RemoveRecord: false, notes);
    }

    public InstallPlan PlanUninstall()
    {
        var record = ReadRecord();
        var notes = new List<string>();
        if (record is null)
        {
            notes.Add($"nothing to uninstall: no install record {InstallRecord.Path} under {Root.Path}");
            return new InstallPlan([], null, RemoveRecord: false, notes);
        }

        var changes = new List<FileChange>();
        foreach (var file in record.Files)
        {
            if (Undo(file, notes) is { } change)
            {
                changes.Add(change);
            }
        }

        if (record.Binary is { } binary && Root.ReadBytes(binary) is { } bytes)
        {
            changes.Add(new FileChange(binary, bytes, null, BinMode, IsBinary: true, "the plugin binary"));
        }

        return new InstallPlan(changes, null, RemoveRecord: true, notes);
    }

    /// <summary>Writes the record first (see <see cref="InstallRecord"/>), then each file atomically; uninstall removes the record last.</summary>
    public void Apply(InstallPlan plan)
    {
        if (plan.Record is { } record)
        {
            AtomicFile.Write(Root.Resolve(InstallRecord.Path), record.ToBytes(), RecordMode);
        }

        foreach (var change in plan.Changes)
        {
            var local = Root.Resolve(change.HostPath);
            if (change.After is null)
            {
                AtomicFile.Delete(local);
            }
            else
            {
                AtomicFile.Write(local, change.After, change.Mode);
            }
        }

        if (plan.RemoveRecord)
        {
            AtomicFile.Delete(Root.Resolve(InstallRecord.Path));
        }
    }

    /// <summary>
    /// The record entry for <paramref name="path"/> about to hold <paramref name="desired"/>. The original is what
    /// the file held before fwmark first wrote it: kept from the record while the file still holds what we wrote,
    /// else what it holds now (the primary rewrote it; a copy of our own edit, as k3s makes of --flannel-cni-conf,
    /// counts without our element).
    /// </summary>
    private RecordedFile Track(string path, string kind, byte[] desired, Dictionary<string, RecordedFile> previous, List<FileChange> changes, string why, string? primary)
    {
        var current = Root.ReadBytes(path);
        string? original;
        if (previous.TryGetValue(path, out var known) && current is not null && InstallRecord.Hash(current) == known.Written)
        {
            original = known.Original;
        }
        else if (known is not null && current is null)
        {
            original = known.Original;
        }
        else if (known is not null && kind == "edit" && current is not null && ConflistText.HasFwmark(current))
        {
            original = Convert.ToBase64String(ConflistText.Remove(current, path));
        }
        else
        {
            original = current is null ? null : Convert.ToBase64String(current);
        }

        if (current is null || !current.AsSpan().SequenceEqual(desired))
        {
            changes.Add(new FileChange(path, current, desired, ConfMode, IsBinary: false, why));
        }

        return new RecordedFile { Path = path, Kind = kind, Original = original, Written = InstallRecord.Hash(desired), Primary = primary };
    }

    /// <summary>Puts back what <paramref name="file"/> held before install; a file changed since is only cleaned of our element.</summary>
    private FileChange? Undo(RecordedFile file, List<string> notes)
    {
        var current = Root.ReadBytes(file.Path);
        if (current is null)
        {
            notes.Add($"{file.Path}: already gone");
            return null;
        }

        if (InstallRecord.Hash(current) == file.Written)
        {
            var original = file.OriginalBytes;
            return new FileChange(file.Path, current, original, ConfMode, IsBinary: false, original is null ? "remove fwmark's conflist" : "restore the bytes from before install");
        }

        if (file.Kind == "edit" && ConflistText.HasFwmark(current))
        {
            notes.Add($"{file.Path}: changed since install; removing only the fwmark element");
            return new FileChange(file.Path, current, ConflistText.Remove(current, file.Path), ConfMode, IsBinary: false, "remove the fwmark element");
        }

        notes.Add($"{file.Path}: changed since install and holds no fwmark element of ours; left as it is");
        return null;
    }

    /// <summary>The primary an own conflist derives from: the first config file of the dir other than ours.</summary>
    public string OwnPrimary(CniLayout layout)
    {
        var primary = ConflistFiles.List(Root, layout.ConfDir).FirstOrDefault(f => f != layout.OwnConflistPath)
            ?? throw new InstallException($"failed to install into {layout.ConfDir}: no primary conflist there yet (start the main CNI, e.g. k3s, first; the agent derives fwmark's conflist as soon as it appears)");
        if (string.CompareOrdinal(CniLayout.OwnConflistName, Path.GetFileName(primary)) >= 0)
        {
            throw new InstallException($"failed to install into {layout.ConfDir}: the primary {Path.GetFileName(primary)} sorts before {CniLayout.OwnConflistName}, so the runtime would not load fwmark's conflist");
        }

        return primary;
    }

    private List<string> EditTargets(CniLayout layout)
    {
        if (layout.Targets is { } targets)
        {
            return [.. targets];
        }

        var files = ConflistFiles.List(Root, layout.ConfDir).Where(f => f != layout.OwnConflistPath).ToList();
        if (layout.Network is { } network)
        {
            return [files.FirstOrDefault(f => NetworkName(f) == network)
                ?? throw new InstallException($"failed to install into {layout.ConfDir}: no conflist of network \"{network}\" (podman network create {network} makes one)")];
        }

        return [files.FirstOrDefault() ?? throw new InstallException($"failed to install into {layout.ConfDir}: no conflist there (create the network first)")];
    }

    private string? NetworkName(string path)
    {
        try
        {
            return JsonNode.Parse(Root.ReadBytes(path) ?? [])?["name"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
