using Fwmark.Core;
using Fwmark.Core.Inspection;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;
using Fwmark.Core.Status;

namespace Fwmark.Cli;

/// <summary>
/// The kernel-facing objects a command needs, made by the executable's composition root (the same one
/// that builds the CNI plugin), or by fakes in tests. Each call makes a fresh object: commands are short.
/// </summary>
public interface IFwmarkServices
{
    /// <summary>The policy routing backend (what the plugin's ADD uses).</summary>
    IRouting Routing();

    /// <summary>The nftables dataplane (what the plugin's ADD uses), for restoring recorded attachments.</summary>
    IDataplane Dataplane();

    /// <summary>The attachment records the plugin keeps (docs/records.md), or null when none are kept.</summary>
    IAttachmentRecordStore? Records();

    /// <summary>A read-only view of the node's kernel state, for doctor.</summary>
    INodeView Node();

    /// <summary>The plugin's table with every element and its counter, and link states, for status (read-only).</summary>
    IMarkingReader Marking();

    /// <summary>Where the agent writes its heartbeat (FWMARK_RUN_DIR, default /run/fwmark).</summary>
    string RunDir => Core.Operator.AgentHeartbeat.DefaultRunDir;
}
