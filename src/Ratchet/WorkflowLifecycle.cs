namespace Ratchet;

/// <summary>
/// The workflow state machine: <c>Pending → Running → {Waiting, Completed, Failed, Cancelled}</c>,
/// <c>Waiting → Running | Failed | Cancelled</c>, and the explicit, audited retry <c>Failed | Cancelled → Running</c>.
/// </summary>
public static class WorkflowLifecycle
{
    /// <summary>Whether <paramref name="status"/> is final (Completed, Failed or Cancelled).</summary>
    public static bool IsTerminal(this WorkflowStatus status) =>
        status is WorkflowStatus.Completed or WorkflowStatus.Failed or WorkflowStatus.Cancelled;

    /// <summary>Whether <paramref name="status"/> is one a worker still has to act on or wait for.</summary>
    public static bool IsActive(this WorkflowStatus status) => !status.IsTerminal();

    /// <summary>Whether an ordinary transition from <paramref name="from"/> to <paramref name="to"/> is allowed.</summary>
    /// <remarks>Retrying a failed or cancelled workflow is not an ordinary transition: use <see cref="CanRetry"/>.</remarks>
    public static bool CanTransition(WorkflowStatus from, WorkflowStatus to) => (from, to) switch
    {
        (WorkflowStatus.Pending, WorkflowStatus.Running or WorkflowStatus.Failed or WorkflowStatus.Cancelled) => true,
        (WorkflowStatus.Running, WorkflowStatus.Waiting or WorkflowStatus.Completed or WorkflowStatus.Failed or WorkflowStatus.Cancelled) => true,
        (WorkflowStatus.Waiting, WorkflowStatus.Running or WorkflowStatus.Failed or WorkflowStatus.Cancelled) => true,
        _ => false,
    };

    /// <summary>Whether a workflow in <paramref name="status"/> may be retried (moved back to Running).</summary>
    public static bool CanRetry(WorkflowStatus status) => status is WorkflowStatus.Failed or WorkflowStatus.Cancelled;

    /// <summary>The statuses reachable from <paramref name="from"/> by an ordinary transition.</summary>
    public static IReadOnlyList<WorkflowStatus> NextStatuses(WorkflowStatus from) =>
        Enum.GetValues<WorkflowStatus>().Where(to => CanTransition(from, to)).ToArray();

    /// <summary>Throws <see cref="InvalidTransitionException"/> unless the transition is allowed.</summary>
    public static void EnsureCanTransition(string workflowId, WorkflowStatus from, WorkflowStatus to)
    {
        if (!CanTransition(from, to))
        {
            throw new InvalidTransitionException(workflowId, from, to);
        }
    }
}
