using System.Text.Json;

namespace Ratchet;

/// <summary>One entry of a workflow's audit trail. Append-only, queryable and exportable as JSONL.</summary>
/// <remarks><see cref="Sequence"/> is assigned by the store when the event is committed (1, 2, 3… per workflow).</remarks>
public sealed record AuditEvent
{
    /// <summary>The workflow the event belongs to.</summary>
    public required string WorkflowId { get; init; }

    /// <summary>The position in the workflow's trail, assigned by the store; ignored when appending.</summary>
    public long Sequence { get; init; }

    /// <summary>What happened; one of <see cref="AuditEventTypes"/> or a caller's own kebab-case name.</summary>
    public required string Type { get; init; }

    /// <summary>The node concerned, if any.</summary>
    public string? Node { get; init; }

    /// <summary>The attempt of <see cref="Node"/> concerned, if any.</summary>
    public int? Attempt { get; init; }

    /// <summary>Details of the event as JSON.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>When it happened.</summary>
    public DateTimeOffset At { get; init; }
}

/// <summary>The audit event types Ratchet itself writes.</summary>
public static class AuditEventTypes
{
    /// <summary>The workflow was created.</summary>
    public const string Created = "created";

    /// <summary>A node started running.</summary>
    public const string NodeStarted = "node-started";

    /// <summary>A node finished and its output was committed.</summary>
    public const string NodeCompleted = "node-completed";

    /// <summary>A node failed.</summary>
    public const string NodeFailed = "node-failed";

    /// <summary>A failed node will run again at a due time.</summary>
    public const string RetryScheduled = "retry-scheduled";

    /// <summary>The workflow parked itself; the payload says why.</summary>
    public const string Waiting = "waiting";

    /// <summary>A human approved a waiting workflow.</summary>
    public const string Approved = "approved";

    /// <summary>A human rejected a waiting workflow.</summary>
    public const string Rejected = "rejected";

    /// <summary>An external signal arrived.</summary>
    public const string Signal = "signal";

    /// <summary>A signal arrived while the workflow did not wait for it, and was buffered until it does.</summary>
    public const string SignalBuffered = "signal-buffered";

    /// <summary>A node ran a shell command; the command's record is in the store's command executions.</summary>
    public const string CommandExecuted = "command-executed";

    /// <summary>The workflow's status changed.</summary>
    public const string StatusChanged = "status-changed";

    /// <summary>A failed or cancelled workflow was retried.</summary>
    public const string Retried = "retried";

    /// <summary>A new workflow was forked from this one; the payload names it (<c>id</c>) and the node it starts at (<c>node</c>).</summary>
    public const string Forked = "forked";

    /// <summary>This workflow was forked from another; the payload names the source (<c>id</c>) and the node (<c>node</c>). Its first event after <c>created</c>.</summary>
    public const string ForkedFrom = "forked-from";

    /// <summary>The workflow goes on on another definition version (a retry or fork onto a newer file); the payload holds <c>from</c> and <c>to</c>.</summary>
    public const string DefinitionChanged = "definition-changed";

    /// <summary>The workflow was archived.</summary>
    public const string Archived = "archived";

    /// <summary>The workflow was resumed after its worker died.</summary>
    public const string Recovered = "recovered";

    /// <summary>
    /// A node's command started in a process group of its own; the payload (host, boot, pgid, start) lets whoever takes
    /// the attempt over stop the group if it outlived the process that started it.
    /// </summary>
    public const string ProcessStarted = "process-started";

    /// <summary>A recorded process group of an interrupted attempt was still running and was stopped before the node ran again.</summary>
    public const string ProcessStopped = "process-stopped";

    /// <summary>A running node was stopped on purpose (Ctrl-C, a worker shutting down): it runs again as the same attempt.</summary>
    public const string Interrupted = "interrupted";

    /// <summary>A trigger on this workflow's transition started another workflow; the payload names the trigger and it.</summary>
    public const string TriggerFired = "trigger-fired";

    /// <summary>A trigger on this workflow's transition could not start its workflow (an expression failed, its type is unknown); the payload says why.</summary>
    public const string TriggerFailed = "trigger-failed";

    /// <summary>A trigger on this workflow's transition did not fire because the chain of triggered workflows reached its maximum depth.</summary>
    public const string TriggerSkipped = "trigger-skipped";

    /// <summary>This workflow was started by a trigger; the payload names the trigger and the workflow that fired it.</summary>
    public const string Triggered = "triggered";
}
