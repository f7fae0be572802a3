using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ratchet;

/// <summary>
/// One workflow instance as a store holds it: immutable; change it with a <c>with</c> expression or
/// with <see cref="TransitionTo"/>, then commit it through a <see cref="Storage.ChangeSet"/>.
/// </summary>
/// <remarks>
/// <see cref="Version"/> is the version the record was read at (0 for one not yet stored). An update commits only
/// if the store still holds that version, and the stored version then becomes <c>Version + 1</c>.
/// Times are kept to whole microseconds by every store.
/// </remarks>
public sealed record WorkflowRecord
{
    /// <summary>An empty, shared artifact map.</summary>
    public static readonly IReadOnlyDictionary<string, JsonElement> NoArtifacts =
        FrozenDictionary<string, JsonElement>.Empty;

    /// <summary>The workflow's id: 8 Crockford base32 characters by default, or one the caller chose.</summary>
    public required string Id { get; init; }

    /// <summary>The definition name this workflow runs, for example <c>issue-implementation</c>.</summary>
    public required string Type { get; init; }

    /// <summary>A hash of the definition it started with, so a running instance keeps its definition.</summary>
    public string DefinitionVersion { get; init; } = "";

    /// <summary>Where the workflow is in its lifecycle.</summary>
    public WorkflowStatus Status { get; init; } = WorkflowStatus.Pending;

    /// <summary>Why the workflow waits; <see cref="WaitReason.None"/> unless <see cref="Status"/> is Waiting.</summary>
    public WaitReason WaitReason { get; init; } = WaitReason.None;

    /// <summary>What a Waiting workflow waits for: the child's id (Child), the signal's name (Signal); null otherwise.</summary>
    public string? WaitDetail { get; init; }

    /// <summary>The node that is running or runs next; once the workflow has ended, the node it ended at.</summary>
    public string? CurrentNode { get; init; }

    /// <summary>The input the workflow was started with.</summary>
    public JsonElement? Input { get; init; }

    /// <summary>The outputs of finished nodes, by node name.</summary>
    public IReadOnlyDictionary<string, JsonElement> Artifacts { get; init; } = NoArtifacts;

    /// <summary>Free-form data for the caller: labels, the issue or pull request served, a waiting prompt.</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>The id of the workflow that started this one as a sub-workflow.</summary>
    public string? ParentId { get; init; }

    /// <summary>
    /// The attempt number of the current node: 0 until its first run starts, then 1, 2… A workflow found Running at
    /// attempt N by a new worker had attempt N interrupted, and runs attempt N + 1.
    /// </summary>
    public int Attempt { get; init; }

    /// <summary>When a worker should next act on this workflow; null when nothing is scheduled.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>The worker holding this workflow's lease. Read-only for change sets: see <see cref="Storage.ILeaseStore"/>.</summary>
    public string? LeaseOwner { get; init; }

    /// <summary>When <see cref="LeaseOwner"/>'s lease runs out and another worker may take the workflow.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; init; }

    /// <summary>The optimistic-concurrency version this record was read at; 0 for a record not yet stored.</summary>
    public long Version { get; init; }

    /// <summary>Why the workflow failed, if it did.</summary>
    public WorkflowError? Error { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the run that started the workflow, so resumed nodes join its trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>When the workflow was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the workflow last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>When the workflow reached a terminal status.</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>When the workflow was archived; archived workflows are left out of listings unless asked for.</summary>
    public DateTimeOffset? ArchivedAt { get; init; }

    /// <summary>
    /// The queue the workflow runs in (see <see cref="Queues.QueueDefinition"/>), fixed when it is created; null for
    /// none. A store leases a queue's workflow only while the queue has room.
    /// </summary>
    public string? Queue { get; init; }

    /// <summary>The workflow's partition key in its queue (for example a repository): the queue runs one key's workflows at a time, or as many as its partition concurrency.</summary>
    public string? QueuePartition { get; init; }

    /// <summary>Among the due workflows of its queue, higher priorities are claimed first; 0 by default.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int QueuePriority { get; init; }

    /// <summary>Whether the workflow is Completed, Failed or Cancelled.</summary>
    [JsonIgnore]
    public bool IsTerminal => Status.IsTerminal();

    /// <summary>
    /// Moves the workflow to <paramref name="status"/>, refusing a move the lifecycle does not allow.
    /// Terminal statuses stamp <see cref="CompletedAt"/> and clear <see cref="DueAt"/>.
    /// </summary>
    /// <param name="status">The new status.</param>
    /// <param name="now">The current time, from the caller's <see cref="TimeProvider"/>.</param>
    /// <param name="waitReason">Required when <paramref name="status"/> is Waiting; otherwise must be None.</param>
    /// <exception cref="InvalidTransitionException">The lifecycle does not allow the move.</exception>
    public WorkflowRecord TransitionTo(WorkflowStatus status, DateTimeOffset now, WaitReason waitReason = WaitReason.None)
    {
        WorkflowLifecycle.EnsureCanTransition(Id, Status, status);
        if (status == WorkflowStatus.Waiting && waitReason == WaitReason.None)
        {
            throw new ArgumentException($"Workflow '{Id}' cannot wait without a reason: pass Approval, Signal, Timer or Child.", nameof(waitReason));
        }

        if (status != WorkflowStatus.Waiting && waitReason != WaitReason.None)
        {
            throw new ArgumentException($"Wait reason {waitReason} only applies to the Waiting status, not {status}.", nameof(waitReason));
        }

        var terminal = status.IsTerminal();
        return this with
        {
            Status = status,
            WaitReason = waitReason,
            WaitDetail = status == WorkflowStatus.Waiting ? WaitDetail : null,
            UpdatedAt = now,
            CompletedAt = terminal ? now : null,
            DueAt = terminal ? null : DueAt,
        };
    }

    /// <summary>
    /// The explicit retry of a failed or cancelled workflow: back to Running at <paramref name="node"/> (by default the
    /// node that failed: <see cref="WorkflowError.Node"/>, else the current node), attempt 0 (no run of it started yet),
    /// error cleared, due now.
    /// </summary>
    /// <exception cref="InvalidTransitionException">The workflow is neither Failed nor Cancelled.</exception>
    public WorkflowRecord Retry(DateTimeOffset now, string? node = null)
    {
        if (!WorkflowLifecycle.CanRetry(Status))
        {
            throw new InvalidTransitionException(Id, Status, WorkflowStatus.Running,
                $"Only a Failed or Cancelled workflow can be retried; workflow '{Id}' is {Status}.");
        }

        return this with
        {
            Status = WorkflowStatus.Running,
            WaitReason = WaitReason.None,
            WaitDetail = null,
            CurrentNode = node ?? Error?.Node ?? CurrentNode,
            Attempt = 0,
            Error = null,
            UpdatedAt = now,
            CompletedAt = null,
            DueAt = now,
        };
    }
}
