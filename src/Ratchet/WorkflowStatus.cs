namespace Ratchet;

/// <summary>The lifecycle state of a workflow. See <see cref="WorkflowLifecycle"/> for the allowed moves.</summary>
public enum WorkflowStatus
{
    /// <summary>Created, no node has run yet.</summary>
    Pending = 0,

    /// <summary>A node is running or ready to run.</summary>
    Running = 1,

    /// <summary>Parked until something outside the workflow happens; <see cref="WaitReason"/> says what.</summary>
    Waiting = 2,

    /// <summary>Finished successfully. Terminal.</summary>
    Completed = 3,

    /// <summary>Finished with an error. Terminal, but can be retried explicitly.</summary>
    Failed = 4,

    /// <summary>Stopped on request. Terminal.</summary>
    Cancelled = 5,
}

/// <summary>Why a <see cref="WorkflowStatus.Waiting"/> workflow is parked.</summary>
public enum WaitReason
{
    /// <summary>The workflow is not waiting.</summary>
    None = 0,

    /// <summary>Paused for a human to approve or reject (the seeds' PAUSED_FOR_HITL).</summary>
    Approval = 1,

    /// <summary>Waiting for an external signal.</summary>
    Signal = 2,

    /// <summary>Sleeping until its due time: a retry back-off or an explicit delay.</summary>
    Timer = 3,

    /// <summary>Waiting for a sub-workflow to finish.</summary>
    Child = 4,

    /// <summary>
    /// Its running node was stopped on purpose (Ctrl-C, a worker shutting down) rather than failing: the node runs again
    /// as the same attempt, using up no retry, as soon as a runner takes it (<c>ratchet resume</c>, or any worker).
    /// </summary>
    Interrupted = 5,
}
