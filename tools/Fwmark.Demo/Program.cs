using System.Runtime.InteropServices;
using Fwmark.Demo;
using Fwmark.Testbed.Cleanup;

// Ctrl-C / SIGTERM: remove every namespace and process the demo created before exiting.
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

try
{
    var options = DemoOptions.Parse(args);
    return new DemoRun(options, Console.Out).Execute() ? 0 : 1;
}
catch (Exception ex) when (ex is ArgumentException or Fwmark.Testbed.TestbedException)
{
    // After a signal the cleanup pulls namespaces from under the running step; that failure is expected.
    if (!Interrupt.Requested)
    {
        Console.Error.WriteLine($"demo: {ex.Message}");
    }

    return 2;
}

static void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    Interrupt.Requested = true;
    Console.Error.WriteLine("demo: interrupted, cleaning up");
    CleanupStack.DisposeAll();
    Environment.Exit(130);
}

internal static class Interrupt
{
    public static volatile bool Requested;
}
