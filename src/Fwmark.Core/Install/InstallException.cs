namespace Fwmark.Core.Install;

/// <summary>
/// An install, uninstall or keeper step that cannot be done as asked (a missing primary conflist, an
/// unreadable containerd config, an ambiguous layout). The message follows "failed to &lt;verb&gt; &lt;object&gt;: &lt;cause&gt;"
/// and is printed as is by the CLI.
/// </summary>
public sealed class InstallException(string message, Exception? inner = null) : Exception(message, inner);
