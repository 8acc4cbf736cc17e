using System.Diagnostics;
using Fwmark;
using Fwmark.Cli;
using Fwmark.Cni;

var started = Stopwatch.GetTimestamp();
var services = new NodeServices();

// A runtime always sets CNI_COMMAND (CNI spec); an operator at a shell does not. That single variable
// decides between the CNI protocol and the operator CLI.
if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CNI_COMMAND")))
{
    var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
    var exit = CniDispatcher.Run(services.Plugin(Console.Error, started), CniEnvironment.FromProcess(), Console.OpenStandardInput(), stdout, Console.Error);
    stdout.Flush();
    return exit;
}

return Cli.Run(args, Console.Out, Console.Error, services);
