using System.Text.Json.Nodes;

namespace Fwmark.Core.Install;

/// <summary>
/// Whether the runtime, were it to create a pod now, would run fwmark with the installed keys: the check behind
/// <c>fwmark install --check</c> (and, later, doctor). Read-only. Each problem says what a pod created now gets,
/// which is exactly the window between a primary's rewrite and the keeper's re-derivation.
/// </summary>
public static class InstallStatus
{
    public static IReadOnlyList<string> Check(Installer installer, CniLayout layout, JsonObject plugin)
    {
        var problems = new List<string>();
        var effective = ConflistFiles.Effective(installer.Root, layout.ConfDir);
        if (effective is null)
        {
            return [$"{layout.ConfDir} holds no conflist: the runtime cannot create pods at all"];
        }

        InstallPlan plan;
        try
        {
            plan = installer.PlanInstall(layout, plugin, binary: null);
        }
        catch (InstallException e)
        {
            return [e.Message];
        }

        foreach (var change in plan.Changes.Where(c => c.After is not null))
        {
            var stale = change.Before is not null && ConflistText.HasFwmark(change.Before);
            problems.Add(stale
                ? $"{change.HostPath} is out of date ({change.Why}): pods created now get its older chain [{ConflistDeriver.Chain(change.Before!)}]"
                : $"{change.HostPath} has no fwmark ({change.Why}): pods created now start unmarked");
        }

        var wanted = layout.Mode == ConflistMode.OwnConflist ? [layout.OwnConflistPath] : layout.Targets ?? [effective];
        if (layout.Network is null && !wanted.Contains(effective))
        {
            problems.Add($"the runtime loads {effective}, which sorts before {string.Join(", ", wanted)}: fwmark is not in its chain");
        }

        if (plan.Record is not null && installer.ReadRecord() is null)
        {
            problems.Add($"not installed: no record {InstallRecord.Path}");
        }

        return problems;
    }
}
