namespace Fwmark.Core.Agent;

/// <summary>
/// One long-running duty of <c>fwmark agent</c> (keeping the conflist, repairing the kernel state, ...). The host
/// starts every loop at once and cancels them together; a loop returns when <c>stop</c> is cancelled
/// and throws only for a failure it cannot ride out, which stops the agent (a supervisor restarts it).
/// </summary>
public interface IAgentLoop
{
    /// <summary>Short name for log lines ("conflist-keeper").</summary>
    string Name { get; }

    Task RunAsync(CancellationToken stop);
}
