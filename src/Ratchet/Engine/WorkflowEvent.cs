using System.Text.Json;

namespace Ratchet.Engine;

/// <summary>The kinds of state change observers hear about.</summary>
public enum WorkflowEventKind
{
    /// <summary>A workflow was created.</summary>
    Started,

    /// <summary>A node attempt began.</summary>
    NodeStarted,

    /// <summary>A node finished and its result was committed.</summary>
    NodeCompleted,

    /// <summary>A node attempt failed.</summary>
    NodeFailed,

    /// <summary>A failed node will run again at <see cref="WorkflowEvent.DueAt"/>.</summary>
    RetryScheduled,

    /// <summary>The workflow parked itself (approval, signal, child, timer).</summary>
    Waiting,

    /// <summary>A node reported progress.</summary>
    Progress,

    /// <summary>The workflow completed.</summary>
    Completed,

    /// <summary>The workflow failed.</summary>
    Failed,

    /// <summary>The workflow was cancelled.</summary>
    Cancelled,

    /// <summary>The workflow was picked up after its worker died; its interrupted node runs again.</summary>
    Recovered,

    /// <summary>A worker finished recovering after start-up; see <see cref="WorkflowEvent.Message"/>.</summary>
    RecoveryCompleted,

    /// <summary>A running node was stopped on purpose (Ctrl-C, shutdown); it runs again as the same attempt when resumed.</summary>
    Interrupted,
}

/// <summary>A state change, as observers receive it (after it was committed).</summary>
public sealed record WorkflowEvent
{
    /// <summary>What happened.</summary>
    public required WorkflowEventKind Kind { get; init; }

    /// <summary>The workflow concerned (empty for worker-wide events).</summary>
    public required string WorkflowId { get; init; }

    /// <summary>Its type.</summary>
    public string WorkflowType { get; init; } = "";

    /// <summary>When it happened.</summary>
    public DateTimeOffset At { get; init; }

    /// <summary>The node concerned.</summary>
    public string? Node { get; init; }

    /// <summary>The node's attempt.</summary>
    public int? Attempt { get; init; }

    /// <summary>The workflow's status after the change.</summary>
    public WorkflowStatus Status { get; init; }

    /// <summary>Why it waits, for <see cref="WorkflowEventKind.Waiting"/>.</summary>
    public WaitReason WaitReason { get; init; }

    /// <summary>A progress message, or a summary.</summary>
    public string? Message { get; init; }

    /// <summary>The error, for failures.</summary>
    public WorkflowError? Error { get; init; }

    /// <summary>A node's output.</summary>
    public JsonElement? Output { get; init; }

    /// <summary>How long the node ran.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>When a retry or timer is due.</summary>
    public DateTimeOffset? DueAt { get; init; }
}

/// <summary>
/// Hears about every state change of the workflows an engine runs, in order per workflow, after each is committed.
/// An observer that throws is logged and never breaks a workflow.
/// </summary>
public interface IWorkflowObserver
{
    /// <summary>Called for each event. Slow observers delay other observers, never the workflows.</summary>
    ValueTask OnEventAsync(WorkflowEvent workflowEvent, CancellationToken cancellationToken);
}
