using System.Text.Json;

namespace Ratchet;

/// <summary>
/// A signal sent to a workflow that was not waiting for it: buffered in the store until the workflow reaches a wait
/// for its name, then consumed (deleted) in the same commit that completes that wait. Pending signals of one workflow
/// are delivered in <see cref="Sequence"/> order, each exactly once.
/// </summary>
/// <remarks><see cref="Sequence"/> is assigned by the store when the signal is sent: one more than the highest of the workflow's pending signals.</remarks>
public sealed record SignalRecord
{
    /// <summary>The workflow the signal was sent to.</summary>
    public required string WorkflowId { get; init; }

    /// <summary>The order among the workflow's pending signals, assigned by the store; ignored when sending.</summary>
    public long Sequence { get; init; }

    /// <summary>The signal's name, as a wait names it (<c>wait: { signal: ci-finished }</c>).</summary>
    public required string Name { get; init; }

    /// <summary>What the sender attached; it becomes the output of the node that receives it.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>When it was sent.</summary>
    public DateTimeOffset SentAt { get; init; }
}
