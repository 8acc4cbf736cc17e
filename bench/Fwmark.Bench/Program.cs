// Execs the published fwmark plugin the way a CNI runtime does and reports latency percentiles.
// Exit codes: 0 measured (targets are reported, not enforced), 1 a plugin call or sanity check failed,
// 2 bad arguments, 3 refused to run in the host's network namespace.
using Fwmark.Bench;
using Fwmark.Testbed;
using Fwmark.Testbed.Namespaces;

var options = BenchOptionsParser.Parse(args, out var errors);
if (errors.Count > 0)
{
    foreach (var error in errors)
        Console.Error.WriteLine($"fwmark-bench: {error}");
    Console.Error.WriteLine(BenchOptionsParser.Usage);
    return 2;
}

try
{
    NetnsGuard.EnsureSelfNotInitial();
}
catch (Exception e) when (e is UnsafeNetnsException or TestbedException)
{
    Console.Error.WriteLine($"fwmark-bench: {e.Message}");
    return 3;
}

foreach (var binary in new[] { options.Plugin, options.Hello })
{
    if (!File.Exists(binary))
    {
        Console.Error.WriteLine($"fwmark-bench: failed to find binary {binary}: no such file");
        return 2;
    }
}

if (options.AgentFlushes > 0)
{
    try
    {
        Console.Out.Write(new AgentBench(options, Console.Error).Run());
        return 0;
    }
    catch (Exception e) when (e is PluginCallFailedException or InvalidOperationException or TimeoutException)
    {
        Console.Error.WriteLine($"fwmark-bench: FAILED: {e.Message}");
        return 1;
    }
}

BenchResults results;
try
{
    results = new BenchRunner(options, Console.Error).Run();
}
catch (Exception e) when (e is PluginCallFailedException or InvalidOperationException or TimeoutException)
{
    // Loud on purpose: a benchmark of a plugin that fails is meaningless, whatever the timings said.
    Console.Error.WriteLine($"fwmark-bench: FAILED: {e.Message}");
    return 1;
}

var targets = Targets.Evaluate(results.Summaries);
Console.Out.Write(Report.Markdown(options, results, targets));
if (options.Out is { } path)
{
    using var file = File.Create(path);
    Report.WriteJson(file, options, results, targets);
}

return 0;
