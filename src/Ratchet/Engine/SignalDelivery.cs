namespace Ratchet.Engine;

/// <summary>What became of a signal sent with <see cref="WorkflowEngine.SendSignalAsync"/>.</summary>
public sealed record SignalDelivery
{
    /// <summary>The workflow: as the delivery committed it, or as it was when the signal was buffered.</summary>
    public required WorkflowRecord Workflow { get; init; }

    /// <summary>
    /// Whether the signal was buffered because the workflow did not wait for it yet: it is delivered when the workflow
    /// reaches a wait for its name. False when it completed the wait at once.
    /// </summary>
    public bool Buffered { get; init; }
}
