using System.Diagnostics;
using Fwmark.Core;
using Fwmark.Core.Agent;
using Fwmark.Core.Operator;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Locking;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;
using Fwmark.Linux.Routing;
using Fwmark.Linux.Session;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The agent's kernel-repair loop: one thread, three netlink sockets, poll(2).
/// <list type="bullet">
/// <item>the owner socket: creates and alone may change the guard table (<see cref="GuardTable"/>), and
/// carries every write the agent makes to the plugin's table, so one port id identifies all of the
/// agent's own notifications, which it skips (no self-triggered repair loops);</item>
/// <item>an nf_tables notification socket (NFNLGRP_NFTABLES): element changes of the plugin's sets are
/// mirrored into the guard at once; any structural change of the plugin's table (table, chain, rule or
/// set added, changed or deleted; a dormant flag) schedules a table repair, debounced;</item>
/// <item>an rtnetlink notification socket (links, IPv4/IPv6 rules and routes): schedules a routing
/// repair, debounced, with retries while the node does not match (a VPN device not back yet).</item>
/// </list>
/// Plus the backstop: a full table and routing check every <see cref="AgentOptions.FullReconcileInterval"/>.
/// Writes to the plugin's table take the plugin's lock (except the lock-free restore of a deleted table,
/// see <see cref="MainTableRepair.TryRestoreMissing"/>); routing repairs go through
/// <see cref="RtnetlinkRouting.Ensure(Fwmark.Core.MarkSpec, Fwmark.Core.Routing.RouteSpec)"/>, which takes the same lock itself. So the agent is one more
/// serialised writer beside concurrent ADD/DEL/GC.
/// </summary>
public sealed class KernelRepairLoop : IDisposable
{
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a repair waits for the plugin's lock before it gives the loop back and retries.</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromMilliseconds(200);

    private readonly AgentOptions _options;
    private readonly TextWriter _log;
    private readonly NetlinkConversation _owner;
    private readonly NetlinkSocket _nftEvents;
    private readonly NetlinkSocket _rtnlEvents;
    private readonly uint _ownPort;
    private readonly GuardTable _guard;
    private readonly ElementMirror _mirror = new();
    private readonly Debouncer _table;
    private readonly Debouncer _routing;
    private readonly RetryBackoff _routingRetry;
    private DateTime? _routingRetryAt;
    private DateTime _nextFull;

    // When the first notification of a not yet repaired fault arrived: the start of a repair's reaction time (metrics).
    private DateTime? _tableFaultAt;
    private DateTime? _routingFaultAt;
    private bool _guardDirty;
    private bool _resync;

    /// <summary>A full repair whose locked part could not get the lock: the next repair is full too.</summary>
    private bool _fullPending;
    private NodeConfig _config = new([], []);

    private KernelRepairLoop(AgentOptions options, TextWriter log)
    {
        _options = options;
        _log = log;
        _table = new Debouncer(options.TableQuiet, options.TableMaxDelay);
        _routing = new Debouncer(options.RoutingQuiet, options.RoutingMaxDelay);
        _routingRetry = new RetryBackoff(options.RetryFirst, options.RetryMax);
        // Subscribe before the first dump, so no change between the dump and the loop is missed.
        _nftEvents = NetlinkSubscription.Open(NetlinkConstants.NETLINK_NETFILTER, options.NetnsPath, NetlinkSubscription.NfTablesGroup);
        _rtnlEvents = NetlinkSubscription.Open(
            NetlinkConstants.NETLINK_ROUTE,
            options.NetnsPath,
            NetlinkSubscription.RtnlLinkGroup,
            NetlinkSubscription.RtnlIPv4RouteGroup,
            NetlinkSubscription.RtnlIPv4RuleGroup,
            NetlinkSubscription.RtnlIPv6RouteGroup,
            NetlinkSubscription.RtnlIPv6RuleGroup);
        _owner = NetlinkConversation.Open(NetlinkConstants.NETLINK_NETFILTER, options.NetnsPath);
        _ownPort = NetlinkSubscription.PortId((NetlinkSocket)_owner.Transport);
        _guard = new GuardTable(_owner, new StructureClaimFile(Path.GetDirectoryName(Path.GetFullPath(options.LockPath)) ?? "/"));
    }

    /// <summary>
    /// Opens the sockets, mirrors the plugin's sets, creates the guard table and makes a first full
    /// repair. Throws <see cref="DataplaneException"/> with what went wrong (another agent already guards this
    /// network namespace, no CAP_NET_ADMIN, ...).
    /// </summary>
    public static KernelRepairLoop Start(AgentOptions options, TextWriter log)
    {
        KernelRepairLoop? loop = null;
        try
        {
            loop = new KernelRepairLoop(options, log);
            loop.Initialise();
            return loop;
        }
        catch (Exception e) when (e is not DataplaneException)
        {
            loop?.Dispose();
            if (e is NftException { Operation: CreateTableOp } n && n.Cause.Errno is Errno.EEXIST or Errno.EPERM)
            {
                throw new DataplaneException(DataplaneFailure.Conflict, $"table {GuardTable.Table} already exists: another fwmark agent guards this network namespace", "stop the other agent first; its guard table goes away with it");
            }

            throw LinuxErrors.Translate("start the agent", e);
        }
        catch
        {
            loop?.Dispose();
            throw;
        }
    }

    /// <summary>Runs until <paramref name="stop"/> is cancelled (SIGTERM). The guard table goes with <see cref="Dispose"/>.</summary>
    public void Run(CancellationToken stop)
    {
        var sockets = new[] { _nftEvents, _rtnlEvents };
        while (!stop.IsCancellationRequested)
        {
            var now = DateTime.UtcNow;
            var wake = new[] { _table.DueAt, _routing.DueAt, _routingRetryAt, _nextFull, now + MaxPoll }.OfType<DateTime>().Min();
            var ready = NetlinkSubscription.Wait(sockets, wake > now ? wake - now : TimeSpan.Zero);
            Step(ready[0], ready[1]);
        }
    }

    public void Dispose()
    {
        _guard.Dispose();
        _nftEvents.Dispose();
        _rtnlEvents.Dispose();
    }

    private void Step(bool nftReady, bool rtnlReady)
    {
        if (nftReady)
        {
            DrainTableEvents();
        }

        if (rtnlReady)
        {
            DrainRoutingEvents();
        }

        var now = DateTime.UtcNow;
        var full = now >= _nextFull;
        if (_resync || _table.TakeDue(now) || full || _fullPending)
        {
            var tableFull = full || _fullPending;
            Guarded("repair the plugin's table", () => RepairTable(tableFull));
        }

        if (_guardDirty)
        {
            Guarded("update the guard table", SyncGuard);
        }

        var retryDue = _routingRetryAt is { } at && now >= at;
        if (_routing.TakeDue(now) || retryDue || full)
        {
            _routingRetryAt = null;
            Guarded("repair policy routing", RepairRouting, routing: true);
        }

        if (full)
        {
            _nextFull = DateTime.UtcNow + _options.FullReconcileInterval;
            _options.Metrics?.FullCheckDone(DateTimeOffset.UtcNow);
        }
    }

    private void Initialise()
    {
        _config = NodeConfig.Read(_options.Conflists());
        using (FileLock.Acquire(_options.LockPath, KernelSession.DefaultLockTimeout))
        {
            _mirror.Load(_owner);
            // Everything queued so far is in the dump (plugins write under this lock); a flush by someone
            // else in this instant is caught by the first repair below.
            Discard(_nftEvents);
        }

        _guard.Sync(_mirror);
        Log($"guarding {_mirror.Count} element(s) of {_mirror.MarkChains.Count} mark chain(s) in table {GuardTable.Table}{(_mirror.HasBridge ? $" and {GuardTable.BridgeTable}" : "")} (owner: this process)");
        _nextFull = DateTime.UtcNow; // the first Step does a full repair
    }

    /// <summary>Applies every queued nf_tables notification; returns after the queue is empty.</summary>
    private void DrainTableEvents()
    {
        var now = DateTime.UtcNow;
        while (true)
        {
            ReadOnlySpan<byte> datagram;
            try
            {
                if (!_nftEvents.TryReceive(wait: false, out datagram))
                {
                    return;
                }
            }
            catch (NetlinkException e) when (e.Errno == Errno.ENOBUFS)
            {
                Log("nf_tables notifications were lost (receive queue full): reloading the mirror from the plugin's table");
                _resync = true;
                continue;
            }

            var reader = new NetlinkMessageReader(datagram);
            while (reader.TryRead(out var message))
            {
                if (NftEvent.Parse(message) is not { } change || change.PortId == _ownPort || !change.IsForPlugin)
                {
                    continue;
                }

                if (change.Unreadable)
                {
                    _resync = true;
                }

                _guardDirty |= _mirror.Apply(change);
                if (change.Kind is not (NftMessageType.NewSetElem or NftMessageType.DelSetElem or NftMessageType.NewGen))
                {
                    _table.Notify(now);
                    _tableFaultAt ??= now;
                }
            }
        }
    }

    private void DrainRoutingEvents()
    {
        var any = false;
        while (true)
        {
            try
            {
                if (!_rtnlEvents.TryReceive(wait: false, out _))
                {
                    break;
                }
            }
            catch (NetlinkException e) when (e.Errno == Errno.ENOBUFS)
            {
                // Lost link/rule/route notifications: the repair below re-reads everything anyway.
            }

            any = true;
        }

        if (any)
        {
            _routing.Notify(DateTime.UtcNow);
            _routingFaultAt ??= DateTime.UtcNow;
        }
    }

    /// <param name="full">The first repair and the backstop's: they also add what the attachment records hold
    /// and the table lacks. A repair that a notification caused needs only the mirror, which is exact then.</param>
    private void RepairTable(bool full)
    {
        var clock = Stopwatch.StartNew();
        DrainTableEvents();
        _config = NodeConfig.Read(_options.Conflists());
        var configured = _config.Marks.Select(m => m.ChainName).ToList();
        // The fast path restores what the mirror holds, which is exactly what the table held when it was deleted.
        // The records (one file per attachment: about 100 ms at 10,000) are read only by the first and the backstop
        // repairs, under the lock: they matter when the mirror lacks something (an agent started after a flush, an
        // element deleted by hand), never on the way to a restored table.
        if (!_resync && MainTableRepair.TryRestoreMissing(_owner, _mirror, configured, NoAttachmentRecord.Instance) is { } restored)
        {
            Log($"restored the plugin's deleted table(s) with {restored} element(s) in {clock.Elapsed.TotalMilliseconds:0.0} ms");
            Counted("table_restore", 1, ref _tableFaultAt);
            if (!full)
            {
                return;
            }
        }

        FileLock held;
        try
        {
            held = FileLock.Acquire(_options.LockPath, LockWait);
        }
        catch (TimeoutException)
        {
            // Plugins hold the lock (a burst of ADD/DEL, or one of them waiting for this agent's restore): never stall
            // the loop on it, or the lock-free restore of the next flush waits too. Try again shortly.
            _fullPending |= full;
            _table.Notify(DateTime.UtcNow);
            return;
        }

        using (held)
        {
            // Every change committed before we got the lock is queued by now: take it into the mirror.
            DrainTableEvents();
            if (_resync)
            {
                ReloadMirror();
            }

            var repairs = MainTableRepair.Repair(_owner, _mirror, configured, full ? _options.Record : NoAttachmentRecord.Instance);
            _fullPending &= !full;
            if (repairs.Count > 0)
            {
                Log($"repaired the plugin's tables in {clock.Elapsed.TotalMilliseconds:0.0} ms: {string.Join("; ", repairs)}");
            }

            Counted("table", repairs.Count, ref _tableFaultAt);
        }

        _guardDirty = true;
    }

    /// <summary>After lost notifications, under the lock: each of the plugin's tables, when it exists, is the truth.</summary>
    private void ReloadMirror()
    {
        _resync = false;
        _mirror.Load(_owner);
    }

    private void SyncGuard()
    {
        _guardDirty = false;
        try
        {
            _guard.Sync(_mirror);
        }
        catch (NftException)
        {
            _guard.Relearn();
            _guard.Sync(_mirror);
        }
    }

    private void RepairRouting()
    {
        var conflists = _options.Conflists();
        _config = NodeConfig.Read(conflists);
        var swept = 0;
        foreach (var line in ForeignRouteSweep.Sweep(_options.NetnsPath, _config.RouteTables))
        {
            Log(line);
            swept++;
        }

        var outcome = new Reconciler(new RtnetlinkRouting(_options.NetnsPath, _options.LockPath), new PrefixWriter(_log, "fwmark agent: ")).Run(conflists);
        var faultAt = _routingFaultAt;
        Counted("foreign_route", swept, ref faultAt);
        Counted("routing", outcome.Repaired, ref _routingFaultAt);
        if (outcome.NodeMatches)
        {
            _routingRetry.Succeeded();
        }
        else
        {
            _routingRetryAt = DateTime.UtcNow + _routingRetry.Failed();
        }
    }

    /// <summary>A failed repair is logged and retried (table: next notification or backstop; routing: backoff), never fatal.</summary>
    private void Guarded(string what, Action action, bool routing = false)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is NetlinkException or NftException or DataplaneException or IOException or TimeoutException or NetlinkFormatException)
        {
            Log($"failed to {what}: {e.Message}");
            _options.Metrics?.Failed(what);
            if (routing)
            {
                _routingRetryAt = DateTime.UtcNow + _routingRetry.Failed();
            }
            else
            {
                _nextFull = Min(_nextFull, DateTime.UtcNow + _options.RetryMax);
            }
        }
    }

    private static void Discard(NetlinkSocket socket)
    {
        try
        {
            while (socket.TryReceive(wait: false, out _))
            {
            }
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOBUFS)
        {
        }
    }

    private void Log(string line) => _log.WriteLine($"fwmark agent: {line}");

    /// <summary>
    /// Counts <paramref name="count"/> repairs (none: nothing counted) with the time since <paramref name="faultAt"/>,
    /// and clears it: a repair pass that found the node whole ends the fault's window too.
    /// </summary>
    private void Counted(string kind, int count, ref DateTime? faultAt)
    {
        if (count > 0)
        {
            _options.Metrics?.Repaired(kind, count, faultAt is { } at ? DateTime.UtcNow - at : null);
        }

        faultAt = null;
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    /// <summary>Prefixes each line the reconciler writes, so the agent's log reads as one voice.</summary>
    private sealed class PrefixWriter(TextWriter inner, string prefix) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;

        public override void WriteLine(string? value) => inner.WriteLine(prefix + value);

        public override void Write(char value) => inner.Write(value);
    }
}
