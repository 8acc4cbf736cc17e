using Fwmark.Cli;
using Fwmark.Cni;
using Fwmark.Core;
using Fwmark.Core.Inspection;
using Fwmark.Core.Logging;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;
using Fwmark.Core.Status;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.Inspection;
using Fwmark.Linux.Links;
using Fwmark.Linux.Routing;
using Fwmark.Linux.Status;

namespace Fwmark;

/// <summary>
/// The composition root: the one place that picks the kernel backends. The CNI plugin and every
/// operator command get their dataplane, routing, attachment records and node view from here, so
/// `fwmark reconcile` and `fwmark doctor` judge the node with exactly the code that ADD programs it
/// with, and every one of them uses the same state directory (<see cref="StatePaths"/>).
/// </summary>
internal sealed class NodeServices : IFwmarkServices
{
    public IRouting Routing() => new RtnetlinkRouting(lockPath: StatePaths.LockPath);

    public IDataplane Dataplane() => new NftDataplane(lockPath: StatePaths.LockPath);

    public IAttachmentRecordStore? Records() => StatePaths.Records();

    public INodeView Node() => new KernelNodeView();

    public IMarkingReader Marking() => new KernelMarkingReader();

    public string RunDir => StatePaths.Root;

    /// <param name="startTimestamp">Stopwatch timestamp of the process start: the log's durationMs covers the whole exec.</param>
    public ICniPlugin Plugin(TextWriter log, long startTimestamp)
    {
        var record = new InvocationRecord();
        return new LoggingPlugin(new FwmarkPlugin(Dataplane(), log, Routing(), Records(), record, new RtnetlinkHostLinks()), record, startTimestamp, log);
    }
}
