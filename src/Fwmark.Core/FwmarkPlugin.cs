using System.Net;
using Fwmark.Cni;
using Fwmark.Core.Config;
using Fwmark.Core.Logging;
using Fwmark.Core.Paths;
using Fwmark.Core.Records;
using Fwmark.Core.Routing;
using Fwmark.Core.Selection;

namespace Fwmark.Core;

/// <summary>
/// What each CNI verb means for fwmark, over an <see cref="IDataplane"/> and, for marks with a
/// <c>route</c>, an <see cref="IRouting"/>. The dispatcher has already
/// checked the environment and version. Config is parsed before any kernel call, so a bad config never
/// half-applies. DEL, GC and STATUS deliberately do not read the config: teardown and node readiness
/// must keep working when the config is broken or was edited since ADD. Routing objects are node-wide
/// and shared by every pod of a mark, so DEL never removes them and a VPN that is down never fails
/// STATUS (that would make the node NotReady).
/// One short line per decision goes to <paramref name="log"/> (stderr in production).
///
/// <paramref name="records"/> (null: keep none) gets one <see cref="AttachmentRecord"/> per attachment,
/// written before the kernel is programmed, so no marked attachment ever exists without its record
/// (a crash after the record and before the kernel leaves a record that reconcile restores and the
/// runtime's DEL removes). A failed ADD deletes its record again. DEL and GC remove records first and
/// never fail because of them: the kernel's owner tags decide what is removed.
/// Its decisions (selection, addresses, warnings) also go into <paramref name="record"/>, for the log file.
/// </summary>
public sealed class FwmarkPlugin(IDataplane dataplane, TextWriter log, IRouting routing, IAttachmentRecordStore? records = null, InvocationRecord? record = null, IHostLinks? links = null) : ICniPlugin
{
    public const string ArgPodName = "K8S_POD_NAME";

    private readonly InvocationRecord _record = record ?? new InvocationRecord();

    public void Add(CniRequest request)
    {
        var config = PluginConfigParser.Parse(request.Config);
        var prevResult = RequirePrevResult(request);
        if (MarkSelector.Select(config, request) is not { } selection)
        {
            Log(request, "no mark selected, nothing installed");
            return;
        }

        _record.Selection = selection;
        var addresses = prevResult.AddressesOf(request.IfName);
        _record.Addresses = addresses;
        if (addresses.Count == 0)
        {
            // Fail closed: whatever address the pod ends up using (SLAAC, DHCP inside the pod) would
            // leave unmarked, and a pod that asked for the VPN must not start without it.
            throw new CniException(CniErrorCodes.InvalidNetworkConfig,
                $"failed to mark attachment {request.ContainerId}/{request.IfName}: {Describe(selection)} selected but prevResult has no IP address on {request.IfName}",
                "the main plugin assigned no address to this interface, so nothing could be marked; refusing to start the pod unsteered");
        }

        // Which key marks the attachment, decided before anything on the node changes (an inconsistent result fails here).
        var path = PathOf(request, prevResult);
        var routed = config.Routes.TryGetValue(selection.Mark.Name, out var route);
        Record(request, addresses, path, selection, route);
        try
        {
            if (routed)
            {
                // Rules and the fail-closed route first: a marked packet must never exist without them.
                // Warnings (VPN device missing or down) do not fail ADD: the table is fail-closed meanwhile.
                foreach (var warning in Kernel(() => routing.Ensure(selection.Mark, route!)))
                {
                    _record.Warnings.Add(warning);
                    Log(request, $"warning: {warning}");
                }
            }

            Kernel(() => dataplane.InstallTarget(OwnerOf(request), new MarkTarget(path, addresses), selection.Mark));
        }
        catch
        {
            ForgetRecord(request);
            throw;
        }

        Log(request, $"marked {Marked(path, addresses)} with {Describe(selection)} (path: {path.Describe()}: {path.Reason})");
    }

    public void Del(CniRequest request)
    {
        var keys = DelKeys(request);
        _record.Addresses = keys?.Addresses ?? [];
        ForgetRecord(request);
        Kernel(() => dataplane.RemoveKeys(OwnerOf(request), keys));
        Log(request, keys is null ? "removed what it owned (found by owner tag)" : $"removed what it owned for {string.Join(", ", keys.Addresses.Select(a => a.ToString()).Concat(keys.Interfaces))}");
    }

    public void Check(CniRequest request)
    {
        var config = PluginConfigParser.Parse(request.Config);
        var prevResult = RequirePrevResult(request);
        if (MarkSelector.Select(config, request) is not { } selection)
        {
            Log(request, "no mark selected, nothing to verify");
            return;
        }

        _record.Selection = selection;
        var addresses = prevResult.AddressesOf(request.IfName);
        _record.Addresses = addresses;
        if (addresses.Count == 0)
        {
            Log(request, $"no address on {request.IfName}, nothing to verify");
            return;
        }

        var path = PathOf(request, prevResult);
        var problems = Kernel(() => dataplane.VerifyTarget(OwnerOf(request), new MarkTarget(path, addresses), selection.Mark)).ToList();
        if (config.Routes.TryGetValue(selection.Mark.Name, out var route))
        {
            problems.AddRange(Kernel(() => routing.Verify(selection.Mark, route)));
        }

        if (problems.Count > 0)
        {
            throw new CniException(FwmarkErrorCodes.StateMismatch,
                $"failed to check attachment {request.ContainerId}/{request.IfName}: {problems[0]}",
                string.Join('\n', problems));
        }

        Log(request, $"{Marked(path, addresses)} marked with {Describe(selection)} as expected (path: {path.Describe()}: {path.Reason})");
    }

    public void Gc(CniRequest request)
    {
        // Without a valid list (e.g. `cnitool gc`) libcni has already DEL'd every attachment it knew:
        // everything left of this network is stale.
        var valid = (request.ValidAttachments ?? [])
            .Select(a => new AttachmentOwner(request.NetworkName, a.ContainerId, a.IfName))
            .Distinct()
            .ToList();
        var staleRecords = 0;
        if (records is not null)
        {
            try
            {
                using var session = records.Open();
                staleRecords = session.DeleteStale(request.NetworkName, valid);
            }
            catch (DataplaneException e)
            {
                log.WriteLine($"fwmark: GC {request.NetworkName}: warning: stale records were not removed: {e.Message}");
            }
        }

        var removed = Kernel(() => dataplane.Collect(request.NetworkName, valid));
        var recordsText = records is null ? "" : $" and {staleRecords} stale record(s)";
        log.WriteLine($"fwmark: GC {request.NetworkName}: removed {removed} stale element(s){recordsText}, kept those of {valid.Count} valid attachment(s)");
    }

    public void Status(CniRequest request)
    {
        try
        {
            Kernel(dataplane.Probe);
        }
        catch (CniException e) when (e.Code is CniErrorCodes.PluginNotAvailable or CniErrorCodes.PluginNotAvailableDegraded)
        {
            throw;
        }
        catch (Exception e)
        {
            // Only "cannot program the kernel at all" may fail STATUS (it turns the node NotReady), and
            // the spec allows only 50/51 there: whatever the dataplane said becomes 50, its text kept.
            var details = e is CniException { Details: { } inner } ? $"{inner}\n{Chain(e)}" : Chain(e);
            throw new CniException(CniErrorCodes.PluginNotAvailable, $"failed to probe dataplane: {e.Message}", details);
        }

        log.WriteLine($"fwmark: STATUS {request.NetworkName}: dataplane available");
    }

    /// <summary>
    /// Writes the attachment's record, after refusing a mark that another network on this node routes
    /// differently (both networks' ADDs would otherwise keep withdrawing each other's rules).
    /// </summary>
    private void Record(CniRequest request, IReadOnlyList<IPAddress> addresses, AttachmentPath path, MarkSelection selection, RouteSpec? route)
    {
        if (records is null)
        {
            return;
        }

        using var session = Kernel(records.Open);
        if (route is not null && Kernel(() => session.Claim(request.NetworkName, selection.Mark, route)) is { } other)
        {
            throw new CniException(CniErrorCodes.InvalidNetworkConfig,
                $"failed to mark attachment {request.ContainerId}/{request.IfName}: network {request.NetworkName} routes mark {selection.Mark.Name} (0x{selection.Mark.Value:x}/0x{selection.Mark.Mask:x}) {RouteText.Describe(route)}, but network {other.Network} already routes 0x{other.Value:x}/0x{other.Mask:x} on this node {RouteText.Describe(other.Route)}",
                $"networks {other.Network} and {request.NetworkName} would keep replacing each other's policy routing; give both the same route for this mark, or marks whose bits differ inside both masks and different tables (claims: {records.Location})");
        }

        Kernel(() => session.Save(new AttachmentRecord(
            OwnerOf(request),
            addresses,
            selection.Mark,
            route,
            request.Args.GetValueOrDefault(MarkSelector.ArgNamespace),
            request.Args.GetValueOrDefault(ArgPodName),
            DateTimeOffset.UtcNow)
        {
            Path = path.IsInterfaceKeyed() ? path : null,
        }));
    }

    /// <summary>Removes the attachment's record; a store that cannot be used is logged, never fatal (DEL must not block).</summary>
    private void ForgetRecord(CniRequest request)
    {
        if (records is null)
        {
            return;
        }

        try
        {
            using var session = records.Open();
            session.Delete(OwnerOf(request));
        }
        catch (DataplaneException e)
        {
            Log(request, $"warning: the attachment record was not removed: {e.Message}");
        }
    }

    /// <summary>
    /// The CNI code of each kind of backend failure. Busy is the one a runtime should retry (11); the
    /// others are I/O failures (5), the code every kernel failure had before backends stopped choosing
    /// CNI codes. STATUS turns any of them into 50 (<see cref="Status"/>).
    /// </summary>
    public static int CodeOf(DataplaneFailure kind) => kind switch
    {
        DataplaneFailure.Busy => CniErrorCodes.TryAgainLater,
        DataplaneFailure.Unavailable or DataplaneFailure.Conflict or DataplaneFailure.Failed => CniErrorCodes.IoFailure,
        _ => CniErrorCodes.Internal,
    };

    /// <summary>A backend failure as the CNI error the runtime sees: its text unchanged, the code by kind.</summary>
    public static CniException ToCni(DataplaneException e) => new(CodeOf(e.Kind), e.Message, e.Details);

    private static T Kernel<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (DataplaneException e)
        {
            throw ToCni(e);
        }
    }

    private static void Kernel(Action call) => Kernel(() =>
    {
        call();
        return 0;
    });

    private static CniResult RequirePrevResult(CniRequest request) =>
        request.PrevResult ?? throw new CniException(CniErrorCodes.InvalidNetworkConfig,
            $"must be called as a chained plugin: {CniEnvironment.VerbOf(request.Command)} needs prevResult");

    /// <summary>
    /// The keys DEL can look up directly, or null to have the dataplane scan for the owner's tag:
    /// without prevResult (libcni lost its cache) and when it lists no address for the interface
    /// (a result that odd may not name the host side correctly either).
    /// DEL never asks the kernel which path ADD took: the host veth is often gone already.
    /// </summary>
    private static AttachmentKeys? DelKeys(CniRequest request)
    {
        if (request.PrevResult is not { } prevResult)
        {
            return null;
        }

        var addresses = prevResult.AddressesOf(request.IfName);
        var interfaces = PathResolver.HostSideNames(prevResult);
        return addresses.Count == 0 ? null : new AttachmentKeys(addresses, interfaces);
    }

    /// <summary>Which key marks this attachment (see <see cref="PathResolver"/>); without a link reader (unit tests) the address path.</summary>
    private AttachmentPath PathOf(CniRequest request, CniResult prevResult) =>
        links is null
            ? AttachmentPath.ByAddress("no interface reader configured")
            : Kernel(() => PathResolver.Resolve(prevResult, request.IfName, request.Netns, links));

    private static string Marked(AttachmentPath path, IReadOnlyList<IPAddress> addresses) =>
        path.IsInterfaceKeyed() ? $"everything from {path.HostInterface} ({string.Join(", ", addresses)})" : string.Join(", ", addresses);
    private static AttachmentOwner OwnerOf(CniRequest request) =>
        new(request.NetworkName, request.ContainerId, request.IfName);

    private static string Describe(MarkSelection s) =>
        $"{s.Mark.Name} (0x{s.Mark.Value:x}/0x{s.Mark.Mask:x}) from {s.Source}";

    private static string Chain(Exception e)
    {
        var lines = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            lines.Add($"{x.GetType().Name}: {x.Message}");
        }

        return string.Join('\n', lines);
    }

    // Container IDs are 64 hex chars; the first 12 identify them in logs, as docker/crictl print them.
    private void Log(CniRequest request, string decision)
    {
        _record.Decision = decision;
        var id = request.ContainerId.Length > 12 ? request.ContainerId[..12] : request.ContainerId;
        log.WriteLine($"fwmark: {CniEnvironment.VerbOf(request.Command)} {request.NetworkName}/{id}/{request.IfName}: {decision}");
    }
}
