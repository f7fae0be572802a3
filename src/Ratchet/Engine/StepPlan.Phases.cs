using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>The state transitions of workflows run by phases (<see cref="PhaseWorkflows"/>).</summary>
internal static partial class Steps
{
    /// <summary>
    /// <paramref name="phase"/> starts on <paramref name="workflow"/>, which the caller holds the lease of: the workflow
    /// becomes Running at the phase, the phase is recorded (so that whoever resumes the workflow runs it), and its first
    /// attempt starts. The attempt goes on from the phase's attempts so far, so no idempotency key names two runs; an
    /// interrupted attempt, or one waiting for its retry, runs as the attempt it is.
    /// </summary>
    /// <exception cref="InvalidTransitionException">The workflow has ended, or waits for something a phase cannot give.</exception>
    public static StepPlan StartPhase(WorkflowRecord workflow, PhaseSpec phase, IReadOnlyList<StepRecord> steps, DateTimeOffset now, bool observe, out PhaseStart start)
    {
        var here = workflow.CurrentNode == phase.Name;
        var next = Attempts(steps, phase.Name).Append(here ? workflow.Attempt : 0).Max() + 1;
        WorkflowRecord running;
        int attempt;
        WorkflowError? retriedAfter = null;
        string? reason = null;
        var recovered = false;
        switch (workflow.Status, workflow.WaitReason)
        {
            case (WorkflowStatus.Pending, _):
                running = workflow.TransitionTo(WorkflowStatus.Running, now);
                attempt = next;
                reason = $"phase '{phase.Name}' started";
                break;
            case (WorkflowStatus.Failed, _):
                retriedAfter = workflow.Error;
                running = workflow.Retry(now, phase.Name);
                attempt = next;
                reason = "retry";
                break;
            case (WorkflowStatus.Running, _):
                // Between phases, or at a phase whose process is gone: that attempt ran, and counts.
                recovered = here && !PhaseWorkflows.IsBetweenPhases(workflow);
                running = workflow with { UpdatedAt = now };
                attempt = next;
                break;
            case (WorkflowStatus.Waiting, WaitReason.Interrupted or WaitReason.Timer):
                // Stopped on purpose, or waiting for its retry: that attempt has not run yet (again).
                running = ToStatus(workflow, WorkflowStatus.Running, now);
                attempt = here ? Math.Max(1, workflow.Attempt) : next;
                break;
            case (WorkflowStatus.Waiting, _):
                throw new InvalidTransitionException(workflow.Id, workflow.Status, WorkflowStatus.Running,
                    $"Workflow '{workflow.Id}' is waiting for {workflow.WaitReason}; a phase cannot run in it now.");
            default:
                throw new InvalidTransitionException(workflow.Id, workflow.Status, WorkflowStatus.Running,
                    $"Workflow '{workflow.Id}' is {workflow.Status}, so phase '{phase.Name}' (which has not completed in it) cannot run any more.");
        }

        var plan = new StepPlan(running with
        {
            DefinitionVersion = PhaseWorkflows.DefinitionVersion,
            CurrentNode = phase.Name,
            Attempt = attempt,
            DueAt = now,
            WaitDetail = null,
        })
        {
            Continue = true,
        };
        if (workflow.Status == WorkflowStatus.Failed)
        {
            plan.Changes.AppendEvent(new AuditEvent
            {
                WorkflowId = workflow.Id, Type = AuditEventTypes.Retried, Node = phase.Name, Attempt = attempt, At = now,
                Payload = Payload(("previousError", workflow.Error?.Message)),
            });
        }

        AddStatusEvent(plan, workflow, reason);
        if (recovered)
        {
            // At the phase's own node (CurrentNode is the phase): its killed attempt is taken over.
            Recovered(plan, workflow, attempt, now, observe);
        }

        plan.Changes.SaveValue(PhaseWorkflows.Namespace, workflow.Id, phase.ToValue(workflow.Type));
        NodeStarted(plan, phase.Name, attempt, now, observe);
        start = new PhaseStart(plan.Committed, attempt, retriedAfter, recovered);
        return plan;
    }

    /// <summary>
    /// What a phase's attempt led to, as a phase workflow takes it: a completed phase that is not final leaves the
    /// workflow Running between phases (nothing due, nobody holding it) instead of ending it; a phase that ended (or
    /// ended the workflow) is no longer recorded as in flight. A retry's wait and an interruption keep it recorded, for
    /// whoever runs it on.
    /// </summary>
    public static StepPlan ClosePhase(StepPlan plan, WorkflowRecord before, PhaseSpec phase)
    {
        switch (plan.Next.Status)
        {
            case WorkflowStatus.Completed when !phase.Final:
                var completed = plan.Next;
                plan.Next = before with
                {
                    UpdatedAt = completed.UpdatedAt,
                    Artifacts = completed.Artifacts,
                    CurrentNode = phase.Name,
                    DueAt = null,
                    Error = null,
                };
                plan.Lease = LeaseAction.Release;
                plan.ParentToWake = null;

                // Observers hear that the phase completed, not the workflow.
                plan.Events.RemoveAll(e => e.Kind == WorkflowEventKind.Completed);
                for (var i = 0; i < plan.Events.Count; i++)
                {
                    if (plan.Events[i].Kind == WorkflowEventKind.NodeCompleted)
                    {
                        plan.Events[i] = plan.Events[i] with { Status = WorkflowStatus.Running };
                    }
                }

                break;
            case WorkflowStatus.Completed:
                AddStatusEvent(plan, before, $"final phase '{phase.Name}' completed");
                break;
            case WorkflowStatus.Failed:
                AddStatusEvent(plan, before, $"phase '{phase.Name}' failed");
                break;
            default:
                return plan;
        }

        plan.Changes.DeleteValue(PhaseWorkflows.Namespace, before.Id);
        return plan;
    }

    /// <summary>A phase that completed before completes the workflow when it is the final one (nothing runs again).</summary>
    public static StepPlan CompleteByFinalPhase(WorkflowRecord workflow, string phase, DateTimeOffset now, bool observe)
    {
        var plan = new StepPlan(ToStatus(workflow, WorkflowStatus.Completed, now)) { Lease = LeaseAction.Release };
        AddStatusEvent(plan, workflow, $"final phase '{phase}' completed");
        plan.Changes.DeleteValue(PhaseWorkflows.Namespace, workflow.Id);
        if (observe)
        {
            plan.Events.Add(Event(WorkflowEventKind.Completed, plan.Next, now) with { Node = phase, Duration = now - workflow.CreatedAt });
        }

        return plan;
    }

    private static IEnumerable<int> Attempts(IReadOnlyList<StepRecord> steps, string node) =>
        steps.Where(s => s.Node == node).Select(s => s.Attempt);
}
