using Fwmark.Core.Inspection;
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

    /// <summary>A read-only view of the node's kernel state, for doctor.</summary>
    INodeView Node();
}
