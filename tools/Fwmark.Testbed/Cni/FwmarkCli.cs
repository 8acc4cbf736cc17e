using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Processes;

namespace Fwmark.Testbed.Cni;

/// <summary>The plugin's operator CLI (no CNI_COMMAND), exec'd in the node namespace like an operator or a VPN up-hook would.</summary>
public static class FwmarkCli
{
    /// <summary>
    /// Runs <paramref name="binary"/> with <paramref name="args"/> in <paramref name="node"/>. Every inherited CNI_*
    /// variable is dropped: with CNI_COMMAND set the binary would speak the CNI protocol instead.
    /// </summary>
    public static CommandResult Run(Netns node, string binary, params string[] args) =>
        node.Exec(new CommandSpec(binary, args) { DropInheritedPrefixes = ["CNI_"] });

    /// <summary><c>fwmark reconcile --conf-dir DIR</c>.</summary>
    public static CommandResult Reconcile(Netns node, string binary, string confDir) =>
        Run(node, binary, "reconcile", "--conf-dir", confDir);
}
