using Fwmark.Core.Install;

namespace Fwmark.Cli;

/// <summary>
/// The conf dir of the last <c>fwmark install</c> on this host, so <c>fwmark reconcile</c> in a VPN up-hook finds
/// k3s's conflists (/var/lib/rancher/k3s/agent/etc/cni/net.d) without being told. Null when nothing was
/// installed or the record cannot be read: then /etc/cni/net.d, as before. The result is a local path (under
/// <c>root</c>).
/// </summary>
public static class InstalledConfDir
{
    public static string Find(string root)
    {
        var host = new HostRoot(root);
        string? recorded = null;
        try
        {
            recorded = new Installer(host).ReadRecord()?.ConfDir;
        }
        catch (InstallException)
        {
        }

        return host.Resolve(recorded ?? CliOption.DefaultConfDir);
    }
}
