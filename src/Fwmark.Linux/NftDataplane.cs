using Fwmark.Cni;
using Fwmark.Core;
using Fwmark.Core.Paths;
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

    public void InstallTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark) =>
        Mutate($"install mark {mark.Name} for {Describe(owner)}", (tables, transaction) =>
        {
            var client = tables.Inet;
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
            var bridgeExists = tables.Bridge.TableExists();
            var bridgeWanted = bridgeExists || target.Path.Keying == MarkKeying.BridgePort;
            EnsureStructure(tables, transaction, mark, markChains, bridgeExists, bridgeWanted);
            foreach (var address in target.Addresses.Distinct())
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

                    if (!target.IsInterface && set == home && IsOwnedBy(existing, owner))
                    {
                        keep = true;
                        continue;
                    }

                    // Address path: IP reuse (or a changed mark), the newest attachment of an address wins.
                    // Interface path: the address is not this attachment's key; only its own old element (a path
                    // change) and a stale one of the same network (the IP was reused there) go. Another network's
                    // element of the same address is another pod in an overlapping range and stays.
                    if (!target.IsInterface || IsOwnedBy(existing, owner) || IsOfNetwork(existing.Comment, owner.Network))
                    {
                        transaction.Add(new DeleteElementOp(new NftElement(set.Name, address)));
                    }
                }

                if (!target.IsInterface && !keep)
                {
                    transaction.Add(new AddElementOp(new NftElement(home.Name, address, owner.Tag)));
                }
            }

            InstallInterface(tables, transaction, owner, target, mark, markChains, bridgeExists);
            return 0;
        });

    public void RemoveKeys(AttachmentOwner owner, AttachmentKeys? keys) =>
        Mutate($"remove marks of {Describe(owner)}", (tables, transaction) =>
        {
            // With keys: one O(1) lookup per mark set of the key's kind. Without (DEL lost its
            // prevResult): scan every set.
            var client = tables.Inet;
            var markChains = FwmarkRuleset.MarkChains(client.DumpSetNames());
            var found = keys is null
                ? markChains.SelectMany(FwmarkRuleset.SetsOf)
                    .SelectMany(set => client.DumpElements(set.Name).Select(e => (set, (NftElementInfo?)e)))
                : keys.Addresses.Distinct().SelectMany(address => markChains
                    .Select(chain => FwmarkRuleset.SetFor(address, chain))
                    .Select(set => (set, client.GetElement(set.Name, address))));
            foreach (var (set, element) in found)
            {
                if (element is not null && IsOwnedBy(element, owner))
                {
                    transaction.Add(new DeleteElementOp(new NftElement(set.Name, element.Key)));
                }
            }

            foreach (var (reader, set) in tables.NameSets(markChains, tables.Bridge.TableExists()))
            {
                var elements = keys is null
                    ? reader.DumpElements(set.Name)
                    : keys.Interfaces.Where(IsInterfaceName).Distinct().Select(name => reader.GetElement(set.Name, name)).OfType<NftNameElementInfo>();
                foreach (var element in elements.Where(e => IsTaggedBy(e.Comment, owner)))
                {
                    transaction.Add(NftTables.DeleteName(reader, set, element.Name));
                }
            }

            return 0;
        });

    public int Collect(string network, IReadOnlyCollection<AttachmentOwner> valid) =>
        Mutate($"collect stale marks of network {network}", (tables, transaction) =>
        {
            var validKeys = valid.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
            bool Stale(string? comment) =>
                comment is not null
                && AttachmentOwner.TagBelongsTo(comment, network)
                && AttachmentOwner.TryParseTag(comment, out _, out var key)
                && !validKeys.Contains(key);

            var markChains = FwmarkRuleset.MarkChains(tables.Inet.DumpSetNames());
            foreach (var set in markChains.SelectMany(FwmarkRuleset.SetsOf))
            {
                foreach (var element in tables.Inet.DumpElements(set.Name).Where(e => Stale(e.Comment)))
                {
                    transaction.Add(new DeleteElementOp(new NftElement(set.Name, element.Key)));
                }
            }

            foreach (var (reader, set) in tables.NameSets(markChains, tables.Bridge.TableExists()))
            {
                foreach (var element in reader.DumpElements(set.Name).Where(e => Stale(e.Comment)))
                {
                    transaction.Add(NftTables.DeleteName(reader, set, element.Name));
                }
            }

            return transaction.Operations.Count;
        });

    public IReadOnlyList<string> VerifyTarget(AttachmentOwner owner, MarkTarget target, MarkSpec mark) =>
        Read($"verify marks of {Describe(owner)}", tables => target.IsInterface
            ? InterfaceVerifier.Verify(tables, owner, target.Path, mark)
            : NftVerifier.Verify(tables.Inet, owner, target.Addresses, mark));

    public void Probe() => Read("program nftables", tables => tables.Inet.GetGeneration());

    internal static bool IsOwnedBy(NftElementInfo element, AttachmentOwner owner) => IsTaggedBy(element.Comment, owner);

    internal static bool IsTaggedBy(string? comment, AttachmentOwner owner) =>
        comment is not null
        && AttachmentOwner.TryParseTag(comment, out _, out var key)
        && key == owner.Key;

    private static bool IsOfNetwork(string? comment, string network) => comment is not null && AttachmentOwner.TagBelongsTo(comment, network);

    /// <summary>Names prevResult lists that can be interface names at all (anything else was never a key).</summary>
    private static bool IsInterfaceName(string name) => name.Length is > 0 and < NftNameElement.KeyLength && name.All(char.IsAscii);

    /// <summary>
    /// Puts the attachment's host interface into its mark's set of its keying (bridge ports in the bridge
    /// table, routed interfaces in the inet table) and takes it out of every other ifname set: a name the
    /// kernel handed to a new veth (interface-name reuse), a changed mark or a changed keying — the newest
    /// attachment of a name wins, as with addresses. On the address path it only removes what this owner
    /// held under an interface key before.
    /// </summary>
    private static void InstallInterface(NftTables tables, NftTransaction transaction, AttachmentOwner owner, MarkTarget target, MarkSpec mark, List<string> markChains, bool bridgeExists)
    {
        var name = target.IsInterface ? target.Path.HostInterface! : null;
        var home = target.Path.Keying switch
        {
            MarkKeying.BridgePort => InterfaceRuleset.PortSet(mark.ChainName),
            MarkKeying.InputInterface => InterfaceRuleset.InterfaceSet(mark.ChainName),
            _ => null,
        };
        var keep = false;
        if (name is not null)
        {
            foreach (var (reader, set) in tables.NameSets(markChains, bridgeExists))
            {
                if (reader.GetElement(set.Name, name) is not { } existing)
                {
                    continue;
                }

                if (set == home && IsTaggedBy(existing.Comment, owner))
                {
                    keep = true;
                }
                else
                {
                    transaction.Add(NftTables.DeleteName(reader, set, name));
                }
            }
        }

        if (home is not null && !keep)
        {
            var add = new AddNameElementOp(new NftNameElement(home.Name, name!, owner.Tag));
            transaction.Add(target.Path.Keying == MarkKeying.BridgePort ? NftTables.OnBridge(add) : add);
        }
    }

    /// <summary>
    /// Queues whatever is needed to make the shared structure whole, judged from one dump of set
    /// names and one rule dump per table (a handful of each, whatever the pod count). The inet
    /// prerouting chain must hold the lookups of every mark chain in <paramref name="markChains"/>, the
    /// replies chain one rule per mark, the mark chains their rules; with the bridge table in use its
    /// prerouting chain and mark chains too. A chain whose rules are all there, in order, is left
    /// alone so its counters survive; otherwise it is flushed and refilled in the same transaction.
    /// Healthy prerouting rules imply the sets and mark chains exist (the kernel refuses to delete
    /// a set or chain a rule still uses), so a healthy table costs no writes at all.
    /// </summary>
    private static void EnsureStructure(NftTables tables, NftTransaction transaction, MarkSpec mark, List<string> markChains, bool bridgeExists, bool bridgeWanted)
    {
        var marks = markChains.Select(FwmarkRuleset.ParseMarkChain).OfType<MarkSpec>().ToList();
        var wanted = new List<(NftChain Chain, IReadOnlyList<NftRule> Rules)>
        {
            (FwmarkRuleset.Prerouting, FwmarkRuleset.PreroutingRules(markChains)),
            (InterfaceRuleset.Replies, InterfaceRuleset.RepliesRules(marks)),
            (FwmarkRuleset.MarkChain(mark), FwmarkRuleset.MarkRules(mark)),
        };
        if (mark.Connmark)
        {
            // Its own base chain per (value, mask): the restore does not depend on which pods are marked.
            wanted.Add((ConnmarkRules.RestoreChain(mark), ConnmarkRules.RestoreRules(mark)));
        }

        // The other marks' chains are goto targets of the prerouting chain: repair them too.
        foreach (var other in marks.Where(m => m.ChainName != mark.ChainName))
        {
            wanted.Add((FwmarkRuleset.MarkChain(other), FwmarkRuleset.MarkRules(other)));
            if (other.Connmark)
            {
                wanted.Add((ConnmarkRules.RestoreChain(other), ConnmarkRules.RestoreRules(other)));
            }
        }

        var bridgeWantedChains = !bridgeWanted ? [] : new List<(NftChain Chain, IReadOnlyList<NftRule> Rules)>
        {
            (InterfaceRuleset.BridgePrerouting, InterfaceRuleset.BridgePreroutingRules(markChains)),
        }.Concat(marks.Select(m => (FwmarkRuleset.MarkChain(m), InterfaceRuleset.BridgeMarkRules(m)))).ToList();

        var inetBroken = Broken(tables.Inet.DumpRules(), wanted);
        var bridgeBroken = bridgeWanted ? Broken(bridgeExists ? tables.Bridge.DumpRules() : [], bridgeWantedChains) : [];
        if (inetBroken.Count > 0)
        {
            // NEWTABLE/NEWSET/NEWCHAIN without NLM_F_EXCL leave existing objects alone.
            transaction.Add(new AddTableOp());
            foreach (var set in markChains.SelectMany(FwmarkRuleset.InetSetsOf))
            {
                transaction.Add(new AddSetOp(set));
            }

            foreach (var (chain, _) in wanted)
            {
                transaction.Add(new AddChainOp(chain));
            }

            // Mark chains first, the prerouting chain (which jumps to them) last.
            Refill(transaction, inetBroken, op => op);
        }

        if (bridgeBroken.Count > 0)
        {
            transaction.Add(NftTables.OnBridge(new AddTableOp()));
            foreach (var chain in markChains)
            {
                transaction.Add(NftTables.OnBridge(new AddSetOp(InterfaceRuleset.PortSet(chain))));
            }

            foreach (var (chain, _) in bridgeWantedChains)
            {
                transaction.Add(NftTables.OnBridge(new AddChainOp(chain)));
            }

            Refill(transaction, bridgeBroken, NftTables.OnBridge);
        }
    }

    private static List<(NftChain Chain, IReadOnlyList<NftRule> Rules, List<NftRuleInfo> Present)> Broken(
        List<NftRuleInfo> rules, List<(NftChain Chain, IReadOnlyList<NftRule> Rules)> wanted) =>
        [
            .. wanted
                .Select(w => (w.Chain, w.Rules, Present: rules.Where(r => r.Chain == w.Chain.Name).ToList()))
                .Where(w => !w.Present.Select(r => r.Fingerprint).SequenceEqual(w.Rules.Select(r => r.Fingerprint))),
        ];

    private static void Refill(NftTransaction transaction, List<(NftChain Chain, IReadOnlyList<NftRule> Rules, List<NftRuleInfo> Present)> broken, Func<NftOperation, NftOperation> inTable)
    {
        foreach (var (chain, chainRules, present) in broken.OrderBy(b => b.Chain.Hook is not null))
        {
            if (present.Count > 0)
            {
                transaction.Add(inTable(new FlushChainOp(chain.Name)));
            }

            foreach (var rule in chainRules)
            {
                transaction.Add(inTable(new AddRuleOp(rule)));
            }
        }
    }

    private T Mutate<T>(string what, Func<NftTables, NftTransaction, T> plan)
    {
        FileLock? held = null;
        try
        {
            held = FileLock.Acquire(_lockPath, _lockTimeout);
            using var socket = NetlinkSocket.Open(NetlinkConstants.NETLINK_NETFILTER, _netnsPath);
            var transaction = new NftTransaction(FwmarkRuleset.Table);
            var result = plan(new NftTables(socket), transaction);
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

    private T Read<T>(string what, Func<NftTables, T> read)
    {
        try
        {
            using var socket = NetlinkSocket.Open(NetlinkConstants.NETLINK_NETFILTER, _netnsPath);
            return read(new NftTables(socket));
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
