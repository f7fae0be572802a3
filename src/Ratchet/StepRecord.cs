using System.Text.Json;

namespace Ratchet;

/// <summary>How one run of a node ended.</summary>
public enum StepOutcome
{
    /// <summary>The node finished and its output was recorded.</summary>
    Completed = 0,

    /// <summary>The node threw, returned an error or timed out.</summary>
    Failed = 1,

    /// <summary>The node was stopped because the workflow was cancelled.</summary>
    Cancelled = 2,
}

/// <summary>One entry of a workflow's journal: a node run that finished one way or another. Append-only.</summary>
/// <remarks><see cref="Sequence"/> is assigned by the store when the record is committed (1, 2, 3… per workflow).</remarks>
public sealed record StepRecord
{
    /// <summary>The workflow the step belongs to.</summary>
    public required string WorkflowId { get; init; }

    /// <summary>The position in the workflow's journal, assigned by the store; ignored when appending.</summary>
    public long Sequence { get; init; }

    /// <summary>The node that ran.</summary>
    public required string Node { get; init; }

    /// <summary>The attempt number of this run, starting at 1.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>How the run ended.</summary>
    public StepOutcome Outcome { get; init; }

    /// <summary>The node's output when it completed.</summary>
    public JsonElement? Output { get; init; }

    /// <summary>What went wrong when it did not.</summary>
    public WorkflowError? Error { get; init; }

    /// <summary>When the run started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When the run finished.</summary>
    public DateTimeOffset FinishedAt { get; init; }
}
