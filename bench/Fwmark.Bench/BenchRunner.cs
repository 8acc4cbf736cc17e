using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fwmark.Testbed.Namespaces;
using Fwmark.Testbed.Nftables;
using Fwmark.Testbed.Processes;

namespace Fwmark.Bench;

/// <summary>How long bringing the node from the previous count to <see cref="N"/> took.</summary>
internal sealed record PopulateStep(int N, int Calls, TimeSpan Elapsed, int? NftObjects);

/// <summary>Everything one run measured.</summary>
internal sealed record BenchResults(IReadOnlyList<Summary> Summaries, IReadOnlyList<PopulateStep> Populate);

/// <summary>
/// For each count N (ascending): ADD pods until N attachments exist, then measure, per iteration, a fresh
/// pod's ADD → CHECK → DEL(prevResult), the hello floor, and a second pod's DEL without prevResult (its
/// ADD untimed). Every measured pod is deleted again, so the node stays at N throughout.
/// </summary>
internal sealed class BenchRunner(BenchOptions options, TextWriter progress)
{
    public const string HelloOp = "hello";
    public const string AddOp = "ADD";
    public const string CheckOp = "CHECK";
    public const string DelOp = "DEL prevResult";
    public const string DelBareOp = "DEL no prevResult";

    private readonly CniCall _plugin = new(options.Plugin, options.CniNetns, options.RouteDevice, options.LogFile, options.BridgePorts);
    // bench/run.sh starts the benchmark inside the namespace it programs (Program checked it is not the initial one).
    private readonly Netns _node = Netns.Current();
    private int _populated;
    private int _nextMeasured = FakePod.MeasuredIndexBase;

    public BenchResults Run()
    {
        var summaries = new List<Summary>();
        var populate = new List<PopulateStep>();
        if (options.BridgePorts)
            Veths.Create([FakePod.Create(FakePod.MeasuredIndexBase)], progress);
        foreach (var n in options.Counts)
        {
            var step = PopulateTo(n);
            populate.Add(step);
            summaries.AddRange(MeasureAt(n));
        }

        return new BenchResults(summaries, populate);
    }

    private PopulateStep PopulateTo(int n)
    {
        var from = _populated;
        var done = 0;
        if (options.BridgePorts && n > from)
            Veths.Create([.. Enumerable.Range(from, n - from).Select(FakePod.Create)], progress);
        var clock = Stopwatch.StartNew();
        try
        {
            Parallel.For(from, n, new ParallelOptions { MaxDegreeOfParallelism = options.PopulateJobs }, index =>
            {
                var pod = FakePod.Create(index);
                _plugin.Run(CniVerb.Add, pod, _plugin.MainPluginResult(pod));
                var finished = Interlocked.Increment(ref done);
                if (finished % 1000 == 0)
                    progress.WriteLine($"populate: {from + finished}/{n} attachments ({clock.Elapsed.TotalSeconds:F1}s)");
            });
        }
        catch (AggregateException e)
        {
            // Report the first failing call as itself, not wrapped: it carries the plugin's own error.
            ExceptionDispatchInfo.Throw(e.Flatten().InnerExceptions[0]);
        }

        clock.Stop();
        _populated = n;

        var objects = NftOracle.PluginObjectCount(_node);
        if (n > 0 && objects is null)
            throw new InvalidOperationException($"failed to find nft table inet fwmark after {n} successful ADDs: the plugin exited 0 but programmed nothing");
        progress.WriteLine($"populate: N={n} reached with {n - from} ADDs in {clock.Elapsed.TotalSeconds:F1}s; nft objects in table inet fwmark: {objects?.ToString() ?? "no table"}");
        return new PopulateStep(n, n - from, clock.Elapsed, objects);
    }

    private List<Summary> MeasureAt(int n)
    {
        var hello = new Samples(HelloOp, n);
        var add = new Samples(AddOp, n);
        var check = new Samples(CheckOp, n);
        var del = new Samples(DelOp, n);
        var delBare = new Samples(DelBareOp, n);
        var helloEnv = new Dictionary<string, string?>(StringComparer.Ordinal) { ["CNI_COMMAND"] = "ADD" };
        var helloStdin = _plugin.MainPluginResult(FakePod.Create(0)).ToJsonString();

        int? objectsBefore = null;
        for (var i = 0; i < options.Warmup + options.Iterations; i++)
        {
            var keep = i >= options.Warmup;

            var pod = FakePod.Create(_nextMeasured++);
            var added = _plugin.Run(CniVerb.Add, pod, _plugin.MainPluginResult(pod));
            var result = ParseAddResult(pod, added);

            var floor = CniCall.Exec(options.Hello, helloEnv, helloStdin);
            if (floor.ExitCode != 0)
                throw new InvalidOperationException($"failed to run hello binary {options.Hello}: exit code {floor.ExitCode}: {floor.Stderr.Trim()}");

            var checkedResult = _plugin.Run(CniVerb.Check, pod, result);
            var deleted = _plugin.Run(CniVerb.Del, pod, result);

            var bare = FakePod.Create(_nextMeasured++);
            _plugin.Run(CniVerb.Add, bare, _plugin.MainPluginResult(bare));
            var deletedBare = _plugin.Run(CniVerb.Del, bare, null);

            // The first ADD at N=0 may create the table's shared skeleton, so the baseline is taken once
            // the first iteration has deleted its pods again, not before it.
            if (i == 0)
                objectsBefore = NftOracle.PluginObjectCount(_node);

            if (keep)
            {
                add.Add(added.Elapsed);
                hello.Add(floor.Elapsed);
                check.Add(checkedResult.Elapsed);
                del.Add(deleted.Elapsed);
                delBare.Add(deletedBare.Elapsed);
            }
        }

        // Every measured pod was deleted again; anything left over means a DEL did not clean up after itself.
        var objectsAfter = NftOracle.PluginObjectCount(_node);
        if (objectsAfter != objectsBefore)
            throw new InvalidOperationException($"failed to return to N={n}: nft table inet fwmark held {objectsBefore?.ToString() ?? "no table"} objects after the first iteration and {objectsAfter?.ToString() ?? "no table"} after the last");

        progress.WriteLine($"measure: N={n} done ({options.Iterations} kept, {options.Warmup} warm-up iterations dropped)");
        return [hello.Summarize(), add.Summarize(), check.Summarize(), del.Summarize(), delBare.Summarize()];
    }

    private static JsonNode ParseAddResult(FakePod pod, CommandResult added)
    {
        try
        {
            return JsonNode.Parse(added.Stdout) as JsonObject
                ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"failed to parse ADD result for container {pod.ContainerId}: {e.Message}: {added.Stdout.Trim()}", e);
        }
    }
}
