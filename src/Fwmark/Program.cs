using Fwmark;
using Fwmark.Cni;
using Fwmark.Core;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Links;
using Fwmark.Linux.Routing;

// A runtime always sets CNI_COMMAND (CNI spec); an operator at a shell does not. That single variable
// decides between the CNI protocol and the operator CLI.
if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CNI_COMMAND")))
{
    var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
    var plugin = new FwmarkPlugin(new NftDataplane(), Console.Error, new RtnetlinkRouting(), new RtnetlinkHostLinks());
    var exit = CniDispatcher.Run(plugin, CniEnvironment.FromProcess(), Console.OpenStandardInput(), stdout, Console.Error);
    stdout.Flush();
    return exit;
}

return Cli.Run(args, Console.Out, Console.Error);
