using System.Net;
using Fwmark.Cni;
using Fwmark.Core;
using Fwmark.Linux.Locking;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux;

/// <summary>
/// <see cref="IDataplane"/> on nf_tables, spoken over netlink (no nft binary).
///
/// Ownership: the plugin owns the whole `inet fwmark` table (see <see cref="FwmarkRuleset"/>).
/// The table, the base chain, the mark chains and their address sets are shared by every network
/// and attachment and are only ever created or repaired, never deleted (a mark chain may still be
/// used by another network). Each set element belongs to exactly one attachment: its comment is
/// <see cref="AttachmentOwner.Tag"/>, and Remove/Collect delete an element only when that tag
/// names the caller, so a pod that inherited a recycled IP keeps its element; Remove and Collect
/// never touch an element whose comment is not one of our tags. Install is the one exception, by
/// design: the address now belongs to the installing attachment, so whatever element holds it is
/// replaced. An address is in at most one mark's set. Sets this build did not name (another
/// fwmark version's) make Install refuse, since rewriting prerouting would drop their lookups.
///
/// Races: concurrent invocations (runtimes run ADD/DEL of different pods in parallel) are
/// serialised by an exclusive flock held across "read the kernel, decide, commit", because each
/// decision depends on what was read. Every mutating call is one nf_tables transaction, so a
/// failure — or a crash mid-way — leaves the kernel exactly as before. Reads on the hot path are
/// O(marks) per address (one single-element GET per mark set of its family, a handful), never
/// O(pods); only Remove-without-addresses and Collect dump sets.
/// </summary>
public sealed class NftDataplane : IDataplane
{
    public const string DefaultLockPath = "/run/fwmark/fwmark.lock";

    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(30);

    private readonly string? _netnsPath;
    private readonly string _lockPath;
    private readonly TimeSpan _lockTimeout;

    /// <param name="netnsPath">Network namespace to program (tests); null = the current one (production).</param>
    /// <param name="lockPath">Lock file serialising invocations; default <see cref="DefaultLockPath"/>.</param>
    /// <param name="lockTimeout">How long to wait for the lock; default <see cref="DefaultLockTimeout"/>.</param>
    public NftDataplane(string? netnsPath = null, string? lockPath = null, TimeSpan? lockTimeout = null)
    {
        _netnsPath = netnsPath;
        _lockPath = lockPath ?? DefaultLockPath;
        _lockTimeout = lockTimeout ?? DefaultLockTimeout;
    }

    public void Install(AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark) =>
        Mutate($"install mark {mark.Name} for {Describe(owner)}", (client, transaction) =>
        {
            var setNames = client.DumpSetNames();
            if (FwmarkRuleset.UnknownSets(setNames) is { Count: > 0 } unknown)
            {
                // Another fwmark build made them: rewriting prerouting without their lookups would
                // leave their pods unmarked, so refuse rather than guess.
                throw new CniException(CniErrorCodes.IoFailure,
                    $"failed to install mark {mark.Name} for {Describe(owner)}: table {FwmarkRuleset.Table} holds set(s) {string.Join(", ", unknown)} that this fwmark version did not make",
                    "another fwmark version programmed this node; upgrade or downgrade every node component to one version, or remove the table (nft delete table inet fwmark) while no pod needs it");
            }

            var markChains = FwmarkRuleset.MarkChains(setNames, mark.ChainName);
            EnsureStructure(client, transaction, mark, markChains);
            foreach (var address in addresses.Distinct())
            {
                var home = FwmarkRuleset.SetFor(address, mark.ChainName);
                var keep = false;
                foreach (var chain in markChains)
                {
                    var set = FwmarkRuleset.SetFor(address, chain);
                    var existing = client.GetElement(set.Name, address);
                    if (existing is null)
                    {
                        continue;
                    }

                    if (set == home && IsOwnedBy(existing, owner))
                    {
                        keep = true;
                        continue;
                    }

                    // IP reuse (or a changed mark): the newest attachment of an address wins.
                    transaction.Add(new DeleteElementOp(new NftElement(set.Name, address)));
                }

                if (!keep)
                {
                    transaction.Add(new AddElementOp(new NftElement(home.Name, address, owner.Tag)));
                }
            }

            return 0;
        });

    public void Remove(AttachmentOwner owner, IReadOnlyList<IPAddress>? addresses) =>
        Mutate($"remove marks of {Describe(owner)}", (client, transaction) =>
        {
            foreach (var (set, element) in OwnedElements(client, owner, addresses))
            {
                transaction.Add(new DeleteElementOp(new NftElement(set.Name, element.Key)));
            }

            return 0;
        }, withoutLock: () => NothingOwnedBy(owner, addresses));

    /// <summary>
    /// The owner's elements: with addresses one O(1) lookup per mark set of the family; without (DEL
    /// lost its prevResult) a scan of every set.
    /// </summary>
    private static List<(NftAddressSet Set, NftElementInfo Element)> OwnedElements(NftClient client, AttachmentOwner owner, IReadOnlyList<IPAddress>? addresses)
    {
        var markChains = FwmarkRuleset.MarkChains(client.DumpSetNames());
        var found = addresses is null
            ? markChains.SelectMany(FwmarkRuleset.SetsOf)
                .SelectMany(set => client.DumpElements(set.Name).Select(e => (set, (NftElementInfo?)e)))
            : addresses.Distinct().SelectMany(address => markChains
                .Select(chain => FwmarkRuleset.SetFor(address, chain))
                .Select(set => (set, client.GetElement(set.Name, address))));
        return [.. found.Where(f => f.Item2 is not null && IsOwnedBy(f.Item2, owner)).Select(f => (f.set, f.Item2!))];
    }

    // issue 8: DEL must not fail on a lock directory that cannot be used when nothing of the attachment exists.
    private bool NothingOwnedBy(AttachmentOwner owner, IReadOnlyList<IPAddress>? addresses) =>
        Read("look for the attachment's elements", client => !client.TableExists() || OwnedElements(client, owner, addresses).Count == 0);

    public int Collect(string network, IReadOnlyCollection<AttachmentOwner> valid) =>
        Mutate($"collect stale marks of network {network}", (client, transaction) =>
        {
            var validKeys = valid.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
            foreach (var set in FwmarkRuleset.MarkChains(client.DumpSetNames()).SelectMany(FwmarkRuleset.SetsOf))
            {
                foreach (var element in client.DumpElements(set.Name))
                {
                    if (element.Comment is not null
                        && AttachmentOwner.TagBelongsTo(element.Comment, network)
                        && AttachmentOwner.TryParseTag(element.Comment, out _, out var key)
                        && !validKeys.Contains(key))
                    {
                        transaction.Add(new DeleteElementOp(new NftElement(set.Name, element.Key)));
                    }
                }
            }

            return transaction.Operations.Count;
        });

    public IReadOnlyList<string> Verify(AttachmentOwner owner, IReadOnlyList<IPAddress> addresses, MarkSpec mark) =>
        Read($"verify marks of {Describe(owner)}", client => NftVerifier.Verify(client, owner, addresses, mark));

    public void Probe() => Read("program nftables", client => client.GetGeneration());

    internal static bool IsOwnedBy(NftElementInfo element, AttachmentOwner owner) =>
        element.Comment is not null
        && AttachmentOwner.TryParseTag(element.Comment, out _, out var key)
        && key == owner.Key;

    /// <summary>
    /// Queues whatever is needed to make the shared structure whole, judged from one dump of set
    /// names and one rule dump of our table (a handful of each, whatever the pod count). The
    /// prerouting chain must hold two lookups for every mark chain in <paramref name="markChains"/>;
    /// those chains must hold their rules. A chain whose rules are all there, in order, is left
    /// alone so its counters survive; otherwise it is flushed and refilled in the same transaction.
    /// Healthy prerouting rules imply the sets and mark chains exist (the kernel refuses to delete
    /// a set or chain a rule still uses), so a healthy table costs no writes at all.
    /// </summary>
    private static void EnsureStructure(NftClient client, NftTransaction transaction, MarkSpec mark, List<string> markChains)
    {
        var rules = client.DumpRules();
        var wanted = new List<(NftChain Chain, IReadOnlyList<NftRule> Rules)>
        {
            (FwmarkRuleset.Prerouting, FwmarkRuleset.PreroutingRules(markChains)),
            (FwmarkRuleset.MarkChain(mark), FwmarkRuleset.MarkRules(mark)),
        };
        if (mark.Connmark)
        {
            // Its own base chain per (value, mask): the restore does not depend on which pods are marked.
            wanted.Add((ConnmarkRules.RestoreChain(mark), ConnmarkRules.RestoreRules(mark)));
        }

        // The other marks' chains are goto targets of the prerouting chain: repair them too.
        foreach (var other in markChains.Where(c => c != mark.ChainName).Select(FwmarkRuleset.ParseMarkChain).OfType<MarkSpec>())
        {
            wanted.Add((FwmarkRuleset.MarkChain(other), FwmarkRuleset.MarkRules(other)));
            if (other.Connmark)
            {
                wanted.Add((ConnmarkRules.RestoreChain(other), ConnmarkRules.RestoreRules(other)));
            }
        }

        var broken = wanted
            .Select(w => (w.Chain, w.Rules, Present: rules.Where(r => r.Chain == w.Chain.Name).ToList()))
            .Where(w => !w.Present.Select(r => r.Fingerprint).SequenceEqual(w.Rules.Select(r => r.Fingerprint)))
            .ToList();
        if (broken.Count == 0)
        {
            return;
        }

        // NEWTABLE/NEWSET/NEWCHAIN without NLM_F_EXCL leave existing objects alone.
        transaction.Add(new AddTableOp());
        foreach (var set in markChains.SelectMany(FwmarkRuleset.SetsOf))
        {
            transaction.Add(new AddSetOp(set));
        }

        foreach (var (chain, _) in wanted)
        {
            transaction.Add(new AddChainOp(chain));
        }

        // Mark chains first, the prerouting chain (which jumps to them) last.
        foreach (var (chain, chainRules, present) in broken.OrderBy(b => b.Chain == FwmarkRuleset.Prerouting))
        {
            if (present.Count > 0)
            {
                transaction.Add(new FlushChainOp(chain.Name));
            }

            foreach (var rule in chainRules)
            {
                transaction.Add(new AddRuleOp(rule));
            }
        }
    }

    /// <param name="withoutLock">
    /// When the lock's directory cannot be used: true = there is nothing to change anyway (return
    /// default), false = report the directory problem.
    /// </param>
    private T Mutate<T>(string what, Func<NftClient, NftTransaction, T> plan, Func<bool>? withoutLock = null)
    {
        FileLock? held = null;
        try
        {
            try
            {
                held = FileLock.Acquire(_lockPath, _lockTimeout);
            }
            catch (StateDirectoryException) when (withoutLock?.Invoke() == true)
            {
                return default!;
            }

            using var socket = NetlinkSocket.Open(NetlinkConstants.NETLINK_NETFILTER, _netnsPath);
            var transaction = new NftTransaction(FwmarkRuleset.Table);
            var result = plan(new NftClient(socket, FwmarkRuleset.Table), transaction);
            transaction.Commit(socket);
            return result;
        }
        catch (Exception e) when (e is not CniException)
        {
            throw Translate(what, e);
        }
        finally
        {
            held?.Dispose();
        }
    }

    private T Read<T>(string what, Func<NftClient, T> read)
    {
        try
        {
            using var socket = NetlinkSocket.Open(NetlinkConstants.NETLINK_NETFILTER, _netnsPath);
            return read(new NftClient(socket, FwmarkRuleset.Table));
        }
        catch (Exception e) when (e is not CniException)
        {
            throw Translate(what, e);
        }
    }

    /// <summary>nf_tables failures carry the transaction as nft script text; the rest is the layer's shared mapping.</summary>
    private static CniException Translate(string what, Exception e) => e is NftException n
        ? new CniException(CniErrorCodes.IoFailure, n.Message, n.Script is null ? n.Cause.Details : $"{n.Cause.Details}\ntransaction:\n{n.Script}")
        : LinuxErrors.ToCni(what, e);

    private static string Describe(AttachmentOwner owner) => $"{owner.Network}/{owner.ContainerId}/{owner.IfName}";
}
