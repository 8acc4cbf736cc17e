using Fwmark.Core;
using Fwmark.Core.Inspection;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;

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
}
