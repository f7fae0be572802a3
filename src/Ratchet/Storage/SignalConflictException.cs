namespace Ratchet.Storage;

/// <summary>
/// A change set's condition on a workflow's pending signals did not hold: a signal it consumes is no longer pending
/// (someone consumed it first), or a signal it expects not to be pending was sent meanwhile. Read the workflow's
/// pending signals again and decide again.
/// </summary>
public sealed class SignalConflictException : RatchetException
{
    private SignalConflictException(string workflowId, string? signal, long? sequence, string message)
        : base(message)
    {
        WorkflowId = workflowId;
        Signal = signal;
        Sequence = sequence;
    }

    /// <summary>The workflow whose signals the change set named.</summary>
    public string WorkflowId { get; }

    /// <summary>The name of the signal that is pending after all; null when a consume was refused.</summary>
    public string? Signal { get; }

    /// <summary>The sequence of the signal that is no longer pending; null when a check was refused.</summary>
    public long? Sequence { get; }

    /// <inheritdoc />
    public override string ErrorCode => "signal-conflict";

    /// <summary>A consume named a signal that is not pending (any more).</summary>
    public static SignalConflictException NotPending(string workflowId, long sequence) =>
        new(workflowId, null, sequence,
            $"Signal {sequence} of workflow '{workflowId}' is not pending: it was consumed first, or never sent. Read the pending signals again.");

    /// <summary>A check expected no pending signal of a name, and one is pending.</summary>
    public static SignalConflictException Pending(string workflowId, string signal) =>
        new(workflowId, signal, null,
            $"A signal '{signal}' is pending for workflow '{workflowId}': it was sent meanwhile. Read the pending signals again.");
}
