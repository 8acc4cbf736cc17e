using System.Diagnostics;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Netlink;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Agent;

/// <summary>
/// The plugin's side of the agent's restore (race 2 in <see cref="GuardTable"/>): when a mutating
/// invocation finds the plugin's table missing while a guard table holds sets, an agent is running and
/// is about to put the whole table back from its mirror. Acting on the empty table now would lose the
/// invocation's knowledge (a DEL finding nothing, so the restore brings the element back), so the
/// invocation waits until the table exists again, at most <see cref="MaxWait"/> (an agent that does not
/// answer must not block pods: then it proceeds as it would without an agent). Costs one GETTABLE when
/// the table exists, which is every call but the first after a flush.
/// </summary>
internal static class AgentHandoff
{
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(2);

    /// <summary>Returns true when it waited for a restore that happened.</summary>
    public static bool AwaitRestore(NetlinkConversation socket)
    {
        if (TableReader.Flags(socket, FwmarkRuleset.Table) is not null)
        {
            return false;
        }

        if (new NftClient(socket, GuardTable.Table).DumpSetNames().Count == 0)
        {
            return false;
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < MaxWait)
        {
            Thread.Sleep(PollInterval);
            if (TableReader.Flags(socket, FwmarkRuleset.Table) is not null)
            {
                return true;
            }
        }

        return false;
    }
}
