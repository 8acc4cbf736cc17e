using System.Diagnostics;

namespace Fwmark.Deploy.Tests;

/// <summary>The VPN up-hooks parse as shell and call `fwmark reconcile`; the systemd units name fwmark's commands.</summary>
public sealed class HookTests
{
    private static string Deploy(params string[] parts) => Path.Join([AppContext.BaseDirectory, "deploy", .. parts]);

    [Theory]
    [InlineData("openvpn-up.sh")]
    [InlineData("networkmanager-90-fwmark")]
    public void Hook_script_parses_and_runs_reconcile(string name)
    {
        var path = Deploy("hooks", name);
        using var sh = Process.Start(new ProcessStartInfo("sh", ["-n", path]) { RedirectStandardError = true })!;
        var error = sh.StandardError.ReadToEnd();
        sh.WaitForExit();
        Assert.True(sh.ExitCode == 0, $"sh -n {name}: {error}");
        Assert.Contains("/usr/local/bin/fwmark reconcile", File.ReadAllText(path));
    }

    [Fact]
    public void WireGuard_example_runs_reconcile_in_PostUp()
    {
        Assert.Contains(File.ReadAllLines(Deploy("hooks", "wireguard-wg0.conf")), l => l.StartsWith("PostUp = /usr/local/bin/fwmark reconcile", StringComparison.Ordinal));
    }

    [Fact]
    public void Agent_unit_runs_the_agent_in_the_foreground()
    {
        var unit = File.ReadAllLines(Deploy("systemd", "fwmark-agent.service"));
        Assert.Contains("Type=simple", unit);
        Assert.Contains(unit, l => l.StartsWith("ExecStart=/usr/local/bin/fwmark agent ", StringComparison.Ordinal));
    }
}
