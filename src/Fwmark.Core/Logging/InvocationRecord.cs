using System.Net;
using Fwmark.Core.Selection;

namespace Fwmark.Core.Logging;

/// <summary>
/// What the plugin decided during one invocation, filled in by <see cref="FwmarkPlugin"/> as it goes and
/// written out by <see cref="LoggingPlugin"/> once the verb has ended (successfully or not).
/// </summary>
public sealed class InvocationRecord
{
    public MarkSelection? Selection { get; set; }

    public IReadOnlyList<IPAddress> Addresses { get; set; } = [];

    public List<string> Warnings { get; } = [];

    /// <summary>The plugin's one-line decision, as it writes to stderr.</summary>
    public string? Decision { get; set; }
}
