using System.Globalization;

namespace Ratchet.Engine;

/// <summary>The transitions of durable waits: timers and signals.</summary>
internal static partial class Steps
{
    /// <summary>
    /// Parks the workflow at a delay node until its wake-up time, stored as the workflow's due time. A time the node
    /// cannot work out (a template that does not render to a time) fails the node.
    /// </summary>
    public static StepPlan ParkForDelay(WorkflowRecord workflow, WorkflowDefinition definition, DelayNodeDefinition node, DateTimeOffset now, bool observe, DateTimeOffset? deadline)
    {
        DateTimeOffset due;
        try
        {
            due = node.WakeAt(workflow, now);
        }
#pragma warning disable CA1031 // Whatever the node's time function throws is the node's failure, which its failure path sees.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var error = new WorkflowError("invalid-time", $"Node '{node.Name}' could not work out when to wake up: {ex.Message}");
            return FailNode(workflow, definition, node, error, exception: null, now, now, continueHere: true, observe, Random.Shared, deadline);
        }

        return Park(workflow, node, WaitReason.Timer, null, due, now, observe);
    }

    /// <summary>
    /// A buffered signal completes the wait for it: its payload is the node's output, and it is consumed in the same
    /// commit, so it is delivered exactly once.
    /// </summary>
    public static StepPlan ReceiveSignal(WorkflowRecord workflow, SignalNodeDefinition node, SignalRecord signal, DateTimeOffset now, bool observe)
    {
        var plan = CompleteNode(workflow, node, NodeResult.SuccessOutcome, signal.Payload, null, now, now, continueHere: true, observe);
        plan.Changes.ConsumeSignal(workflow.Id, signal.Sequence);
        plan.Changes.AppendEvent(new AuditEvent
        {
            WorkflowId = workflow.Id, Type = AuditEventTypes.Signal, Node = node.Name, At = now,
            Payload = Payload(
                ("signal", signal.Name),
                ("sequence", signal.Sequence.ToString(CultureInfo.InvariantCulture)),
                ("sentAt", signal.SentAt.ToString("O", CultureInfo.InvariantCulture))),
        });
        return plan;
    }

    /// <summary>
    /// A wait for a signal reached its timeout: the node takes the <see cref="WorkflowDefinition.TimedOut"/> outcome's
    /// transition, or fails with <c>signal-timeout</c> when it has none (its failure path, if any, runs).
    /// </summary>
    public static StepPlan SignalTimedOut(WorkflowRecord workflow, WorkflowDefinition definition, SignalNodeDefinition node, DateTimeOffset now, bool observe)
    {
        if (!node.TimeoutFailsNode)
        {
            return CompleteNode(workflow, node, WorkflowDefinition.TimedOut, null, null, workflow.UpdatedAt, now, continueHere: true, observe);
        }

        var error = new WorkflowError("signal-timeout",
            $"Node '{node.Name}' waited {node.Timeout} for the signal '{node.SignalName}', which did not come (the node has no transition for the outcome '{WorkflowDefinition.TimedOut}').");
        return FailNode(workflow, definition, node, error, exception: null, workflow.UpdatedAt, now, continueHere: true, observe, Random.Shared, deadline: null);
    }
}
