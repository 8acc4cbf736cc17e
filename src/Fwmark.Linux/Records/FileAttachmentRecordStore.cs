using Fwmark.Core;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;
using Fwmark.Linux.Locking;
using Fwmark.Linux.Session;

namespace Fwmark.Linux.Records;

/// <summary>
/// <see cref="IAttachmentRecordStore"/> as files under one root directory (default
/// <see cref="DefaultRoot"/>, the directory of the plugin's lock):
/// <code>
/// ROOT/attachments/NETWORK/KEY.json   one record per attachment (KEY = AttachmentOwner.Key, 16 hex)
/// ROOT/networks/NETWORK.json          the network's routing claims (node-wide conflict check)
/// ROOT/records.lock                   flock serialising changes to both
/// </code>
/// Why /run: records describe kernel state, and the kernel state (nftables, routing) and every pod
/// network namespace end with the boot, as /run (a tmpfs) does. A record that outlived a reboot would
/// describe an attachment that no longer exists, and restoring it would mark whichever new pod got that
/// IP. /run survives plugin restarts and upgrades (it is not the binary's), and a DaemonSet agent sees
/// it through a hostPath mount of /run/fwmark.
///
/// Atomic: a record is written to a temporary file in the same directory and renamed over the old
/// one, so a reader sees the old or the new record, never half of one, whatever process dies when.
/// Not fsync'd, on purpose: fsync only helps when the machine itself crashes, and a crash reboots it,
/// after which every record is void (each carries the boot ID it was written in, and records of an
/// earlier boot are ignored, also where /run is not a tmpfs, as on this repository's test VM). On a
/// disk-backed /run, fsync of file and directory cost ~16 ms per ADD (docs/records.md).
/// One file per attachment: concurrent ADDs of different pods never write the same file. Deleting a
/// missing record is not an error.
/// </summary>
public sealed class FileAttachmentRecordStore : IAttachmentRecordStore
{
    public const string DefaultRoot = "/run/fwmark";

    private readonly string _root;
    private readonly TimeSpan _lockTimeout;

    /// <param name="root">The state directory; tests pass a temporary one, never /run.</param>
    public FileAttachmentRecordStore(string? root = null, TimeSpan? lockTimeout = null)
    {
        _root = Path.GetFullPath(root ?? DefaultRoot);
        _lockTimeout = lockTimeout ?? KernelSession.DefaultLockTimeout;
    }

    public string Location => AttachmentsDirectory;

    /// <summary>This boot's ID (/proc/sys/kernel/random/boot_id), or null when the kernel does not say.</summary>
    internal static string? CurrentBootId { get; } = ReadBootId();

    internal string AttachmentsDirectory => Path.Combine(_root, "attachments");

    internal string NetworksDirectory => Path.Combine(_root, "networks");

    internal string LockPath => Path.Combine(_root, "records.lock");

    /// <summary>A long reason cut to <paramref name="max"/> characters (as the CNI layer's Text.Cut, which this project may not use).</summary>
    private static string Cut(string text, int max) =>
        text.Length <= max ? text : $"{text[..(char.IsHighSurrogate(text[max - 1]) ? max - 1 : max)]}... ({text.Length} characters)";

    public IAttachmentRecordSession Open()
    {
        try
        {
            return new Session(this, FileLock.Acquire(LockPath, _lockTimeout));
        }
        catch (Exception e) when (e is not DataplaneException)
        {
            throw LinuxErrors.Translate("lock the attachment records", e);
        }
    }

    public IReadOnlyList<AttachmentRecord> ReadAll(ICollection<string> problems)
    {
        var records = new List<AttachmentRecord>();
        if (!Directory.Exists(AttachmentsDirectory))
        {
            return records;
        }

        string[] files;
        try
        {
            files = Directory.GetFiles(AttachmentsDirectory, "*.json", SearchOption.AllDirectories);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"records in {AttachmentsDirectory} cannot be listed: {StateDirectory.Plain(e)}");
            return records;
        }

        foreach (var file in files.Order(StringComparer.Ordinal))
        {
            // A record of an earlier boot describes nothing that exists (see the class comment).
            if (TryRead(file, problems) is { } record && IsOfThisBoot(record))
            {
                records.Add(record);
            }
        }

        return records;
    }

    internal static bool IsOfThisBoot(AttachmentRecord record) =>
        record.BootId is null || CurrentBootId is null || record.BootId == CurrentBootId;

    private static string? ReadBootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim() is { Length: > 0 } id ? id : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal string PathOf(AttachmentOwner owner) => Path.Combine(AttachmentsDirectory, owner.Network, owner.Key + ".json");

    private string ClaimsPathOf(string network) => Path.Combine(NetworksDirectory, network + ".json");

    private static AttachmentRecord? TryRead(string file, ICollection<string>? problems)
    {
        try
        {
            var record = AttachmentRecordJson.Parse(File.ReadAllText(file));
            // The name must match the content: a record copied or renamed by hand is not this attachment's.
            if (Path.GetFileNameWithoutExtension(file) != record.Owner.Key || Path.GetFileName(Path.GetDirectoryName(file)) != record.Owner.Network)
            {
                throw new FormatException($"it describes {record.Owner.Network}/{record.Owner.ContainerId}/{record.Owner.IfName}, which belongs in another file");
            }

            return record;
        }
        catch (FileNotFoundException)
        {
            return null; // deleted since the directory was listed
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            problems?.Add($"record {file} cannot be read: {Cut(e is FormatException ? e.Message : StateDirectory.Plain(e), 200)}");
            return null;
        }
    }

    /// <summary>temp + rename: see the class comment.</summary>
    private static void WriteAtomically(string path, string text)
    {
        var directory = Path.GetDirectoryName(path)!;
        StateDirectory.Ensure(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllBytes(temp, System.Text.Encoding.UTF8.GetBytes(text));

            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.Move(temp, path, overwrite: true); // rename(2): atomic
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static bool Overlaps(uint value1, uint mask1, uint value2, uint mask2) => ((value1 ^ value2) & mask1 & mask2) == 0;

    private sealed class Session(FileAttachmentRecordStore store, FileLock held) : IAttachmentRecordSession
    {
        public AttachmentRecord? Read(AttachmentOwner owner) =>
            Run("read the attachment record", () => TryRead(store.PathOf(owner), null) is { } record && IsOfThisBoot(record) ? record : null);

        public void Save(AttachmentRecord record) => Run("write the attachment record", () =>
            WriteAtomically(store.PathOf(record.Owner), AttachmentRecordJson.Serialize(record with { BootId = CurrentBootId })));

        public void Delete(AttachmentOwner owner) => Run("delete the attachment record", () =>
        {
            try
            {
                File.Delete(store.PathOf(owner)); // no error when the file is not there
            }
            catch (DirectoryNotFoundException)
            {
                // nor when its network never had a record
            }

            return 0;
        });

        public int DeleteStale(string network, IReadOnlyCollection<AttachmentOwner> valid) => Run("collect stale attachment records", () =>
        {
            var directory = Path.Combine(store.AttachmentsDirectory, network);
            if (!Directory.Exists(directory))
            {
                return 0;
            }

            var keep = valid.Select(o => o.Key + ".json").ToHashSet(StringComparer.Ordinal);
            var removed = 0;
            foreach (var file in Directory.EnumerateFiles(directory, "*.json"))
            {
                if (!keep.Contains(Path.GetFileName(file)))
                {
                    File.Delete(file);
                    removed++;
                }
            }

            return removed;
        });

        public RoutingClaim? Claim(string network, MarkSpec mark, RouteSpec route) => Run("check the node's routing claims", () =>
        {
            var mine = new RoutingClaim(network, mark.Value, mark.Mask, route);
            List<RoutingClaim> own = [];
            var files = Directory.Exists(store.NetworksDirectory) ? Directory.GetFiles(store.NetworksDirectory, "*.json") : [];
            foreach (var file in files.Order(StringComparer.Ordinal))
            {
                List<RoutingClaim> claims;
                try
                {
                    claims = AttachmentRecordJson.ParseClaims(File.ReadAllText(file));
                }
                catch (Exception e) when (e is FormatException or FileNotFoundException)
                {
                    continue; // a claim that cannot be read cannot be honoured; the kernel's owner tags stay the authority
                }

                var other = Path.GetFileNameWithoutExtension(file);
                if (other == network)
                {
                    own = claims;
                    continue;
                }

                var conflict = claims.FirstOrDefault(c =>
                    (Overlaps(c.Value, c.Mask, mark.Value, mark.Mask) || c.Route.Table == route.Table) && c.Route != route);
                if (conflict is null)
                {
                    continue;
                }

                // A network without attachments left routes nothing any more: its claim is stale.
                var attachments = Path.Combine(store.AttachmentsDirectory, other);
                if (Directory.Exists(attachments) && Directory.EnumerateFiles(attachments, "*.json").Any(f => TryRead(f, null) is { } r && IsOfThisBoot(r)))
                {
                    return conflict;
                }

                File.Delete(file);
            }

            var updated = own.Where(c => !(c.Value == mark.Value && c.Mask == mark.Mask)).Append(mine).ToList();
            if (!own.SequenceEqual(updated))
            {
                WriteAtomically(store.ClaimsPathOf(network), AttachmentRecordJson.SerializeClaims(network, updated));
            }

            return (RoutingClaim?)null;
        });

        public void Dispose() => held.Dispose();

        private static T Run<T>(string what, Func<T> action)
        {
            try
            {
                return action();
            }
            catch (Exception e) when (e is not DataplaneException)
            {
                throw LinuxErrors.Translate(what, e);
            }
        }

        private static void Run(string what, Action action) => Run(what, () =>
        {
            action();
            return 0;
        });
    }
}
