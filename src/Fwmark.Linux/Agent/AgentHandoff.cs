using System.Diagnostics;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The plugin's side of the agent's restore (race 2 in <see cref="GuardTable"/>): when a mutating
/// invocation finds one of the plugin's tables missing while its guard table holds sets, an agent is running and
/// is about to put the whole table back from its mirror. Acting on the empty table now would lose the
/// invocation's knowledge (a DEL finding nothing, so the restore brings the element back), so the
/// invocation waits until the table exists again, at most <see cref="MaxWait"/> (an agent that does not
/// answer must not block pods: then it proceeds as it would without an agent). Costs one GETTABLE when
/// the table exists, which is every call but the first after a flush.
/// </summary>
internal static class AgentHandoff
{
    /// <summary>
    /// The restore itself takes milliseconds, but the agent is one process among the node's: with 64 plugin execs
    /// on two cores it was seen to start more than 2 s after the flush, and a DEL that stops waiting before it
    /// deletes nothing and the restore then brings its element back. 10 s is the order of the lock wait every
    /// call accepts anyway (<see cref="Session.KernelSession.DefaultLockTimeout"/>, 30 s), and it is only ever
    /// spent while an agent (whose socket keeps its guard alive) exists but has not restored yet.
    /// </summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(2);

    /// <summary>Each of the plugin's tables with the agent's guard of it.</summary>
    private static readonly (NftTable Plugin, NftTable Guard)[] Guarded =
        [(FwmarkRuleset.Table, GuardTable.Table), (InterfaceRuleset.BridgeTable, GuardTable.BridgeTable)];

    /// <summary>What a handoff found.</summary>
    public enum Outcome
    {
        /// <summary>No table of the plugin's was missing while its guard held sets: nothing to wait for.</summary>
        NothingMissing,

        /// <summary>A missing table came back (the agent restored it) while the call waited.</summary>
        Restored,

        /// <summary>A table was still missing after <see cref="MaxWait"/>.</summary>
        GaveUp,
    }

    /// <summary>
    /// Waits for the agent's restore when one is due. Each of the plugin's tables is looked at: the
    /// bridge table (bridge-port keys) can be deleted alone (`nft delete table bridge fwmark`), and a DEL of a
    /// bridge-port attachment acting on its absence would be undone by the restore just the same.
    /// </summary>
    public static Outcome AwaitRestore(NetlinkConversation socket)
    {
        var waiting = Awaited(socket);
        if (waiting.Count == 0)
        {
            return Outcome.NothingMissing;
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < MaxWait)
        {
            Thread.Sleep(PollInterval);
            if (waiting.All(table => TableReader.Flags(socket, table) is not null))
            {
                return Outcome.Restored;
            }
        }

        return Outcome.GaveUp;
    }

    /// <summary>
    /// For a DEL: as <see cref="AwaitRestore"/>, but an agent that did not restore in time makes the DEL fail
    /// with "try again" (CNI code 11, which runtimes retry) instead of acting on the empty table: a DEL that
    /// found nothing to delete would succeed, and the agent's restore, coming late, would bring the deleted
    /// attachment's elements back for good. ADD and GC go ahead after the wait: what they make, the agent's
    /// repair keeps.
    /// </summary>
    public static Outcome AwaitRestoreBeforeDelete(NetlinkConversation socket)
    {
        var outcome = AwaitRestore(socket);
        if (outcome != Outcome.GaveUp)
        {
            return outcome;
        }

        if (Awaited(socket) is not { Count: > 0 } missing)
        {
            return Outcome.Restored; // it came back after the last look
        }

        throw new Core.DataplaneException(
            Core.DataplaneFailure.Busy,
            $"table {string.Join(" and ", missing)} is missing and the fwmark agent (which guards it) did not restore it within {MaxWait.TotalSeconds:0} s",
            "a DEL now would let the agent's late restore bring this attachment's marking back; retry the DEL (runtimes do), and check that `fwmark agent` is not stuck");
    }

    /// <summary>
    /// For a DEL that found nothing of its attachment in the plugin's tables: succeeds only when the agent's guard
    /// holds nothing of it either. Otherwise the agent still has the attachment in its mirror (the plugin's table was
    /// flushed and a call that gave up waiting rebuilt it without the agent's restore), and its next repair would put
    /// the elements back after this DEL had succeeded; so the DEL fails with "try again" (code 11) until the agent
    /// has restored them and a retried DEL deletes them for good. Costs a dump of the guard's sets, only on this
    /// unusual path (a DEL that finds nothing while an agent runs).
    /// </summary>
    public static void EnsureNotGuarded(NetlinkConversation socket, Core.AttachmentOwner owner)
    {
        var ownerKey = owner.Key;
        foreach (var table in Guarded.Select(t => t.Guard))
        {
            var client = new NftClient(socket, table);
            var names = new NftNameSetClient(socket, table);
            foreach (var set in client.DumpSetNames())
            {
                var comments = NftEvent.IsNameSet(set)
                    ? names.DumpElements(set).Select(e => e.Comment)
                    : client.DumpElements(set).Select(e => e.Comment);
                if (comments.Any(c => NftPlanner.IsTaggedBy(c, ownerKey)))
                {
                    throw new Core.DataplaneException(
                        Core.DataplaneFailure.Busy,
                        $"the fwmark agent still guards {NftPlanner.Describe(owner)} in table {table} {set}, which table {FwmarkRuleset.Table} lost; its restore would bring the attachment's marking back after this DEL",
                        "retry the DEL (runtimes do) once the agent has restored the table; check that `fwmark agent` is not stuck");
                }
            }
        }
    }

    /// <summary>The plugin's tables that are missing while their guard holds sets: the agent will restore them.</summary>
    private static List<NftTable> Awaited(NetlinkConversation socket) =>
        Guarded
            .Where(t => TableReader.Flags(socket, t.Plugin) is null && new NftClient(socket, t.Guard).DumpSetNames().Count > 0)
            .Select(t => t.Plugin)
            .ToList();
}
