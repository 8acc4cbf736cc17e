using System.Net.Sockets;
using Fwmark.Core;
using Fwmark.Core.Inspection;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;
using Fwmark.Core.Status;

namespace Fwmark.Cli.Tests;

/// <summary>Routing whose Verify reports <see cref="Missing"/> until Ensure runs.</summary>
internal sealed class FakeRouting : IRouting
{
    public List<string> Missing { get; } = [];

    public int Ensures { get; private set; }

    public IReadOnlyList<string> Ensure(MarkSpec mark, RouteSpec route)
    {
        Ensures++;
        Missing.Clear();
        return [];
    }

    public IReadOnlyList<string> Verify(MarkSpec mark, RouteSpec route) => [.. Missing];
}

/// <summary>A node described by hand: rules, routes, links and sysctls.</summary>
internal sealed class FakeNode : INodeView
{
    public string? Nftables { get; set; }

    public List<NodeRule> RuleList { get; } = [];

    public List<NodeRoute> RouteList { get; } = [];

    public HashSet<string> Links { get; } = [];

    public Dictionary<string, string> Sysctls { get; } = [];

    public string? NftablesProblem() => Nftables;

    public IReadOnlyList<NodeRule> Rules(AddressFamily family) => [.. RuleList.Where(r => r.Family == family).OrderBy(r => r.Priority)];

    public IReadOnlyList<NodeRoute> Routes(AddressFamily family, uint table) => [.. RouteList.Where(r => r.Family == family && r.Table == table)];

    public bool HasLink(string name) => Links.Contains(name);

    public string? Sysctl(string key) => Sysctls.GetValueOrDefault(key);
}

internal sealed class FakeServices : IFwmarkServices
{
    public FakeRouting RoutingFake { get; } = new();

    public FakeNode NodeFake { get; } = new();

    public Exception? Throw { get; set; }

    public IRouting Routing() => Throw is null ? RoutingFake : throw Throw;

    public INodeView Node() => Throw is null ? NodeFake : throw Throw;

    /// <summary>No records: the CLI tests cover the conflist side; Core's ReconcilerRecordTests the records.</summary>
    public IDataplane Dataplane() => throw new InvalidOperationException("the CLI tests keep no records, so reconcile must not ask for the dataplane");

    public IAttachmentRecordStore? Records() => null;

    public FakeMarking MarkingFake { get; } = new();

    public IMarkingReader Marking() => Throw is null ? MarkingFake : throw Throw;
}

/// <summary>The plugin's table as status reads it: a snapshot and link states set by the test.</summary>
internal sealed class FakeMarking : IMarkingReader
{
    public MarkingSnapshot Snapshot { get; set; } = MarkingSnapshot.Empty;

    public Dictionary<string, bool> Links { get; } = new(StringComparer.Ordinal);

    public Exception? Fail { get; set; }

    public MarkingSnapshot Read() => Fail is null ? Snapshot : throw Fail;

    public bool? LinkUp(string name) => Links.TryGetValue(name, out var up) ? up : null;
}

/// <summary>One CLI run in-process: exit code and both streams.</summary>
internal sealed record CliRun(int Exit, string Stdout, string Stderr)
{
    public static CliRun Of(FakeServices services, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = Cli.Run(args, stdout, stderr, services);
        return new CliRun(exit, stdout.ToString(), stderr.ToString());
    }

    public static CliRun Of(params string[] args) => Of(new FakeServices(), args);

    public override string ToString() => $"exit {Exit}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}

/// <summary>A temporary conf dir, removed on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fwmark-cli-{Guid.NewGuid():N}");

    public string Write(string name, string text)
    {
        var file = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, text);
        return file;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
