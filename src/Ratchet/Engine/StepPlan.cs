using System.Globalization;
using System.Text.Json;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>
/// One commit's worth of decisions: the workflow's next record, everything appended with it, and what to do after.
/// Built by <see cref="Steps"/>, committed by the runner or an API call, never half-applied.
/// </summary>
internal sealed class StepPlan(WorkflowRecord next)
{
    /// <summary>The record to write (its Version is the version read; the store makes it Version + 1).</summary>
    public WorkflowRecord Next { get; set; } = next;

    public ChangeSet Changes { get; } = new();

    public LeaseAction Lease { get; set; }

    /// <summary>Whether the caller goes straight on to run <see cref="Next"/>'s current node in this process.</summary>
    public bool Continue { get; set; }

    /// <summary>Whether the plan already holds its status-changed event, placed where it belongs.</summary>
    public bool HasStatusEvent { get; set; }

    /// <summary>The parent to wake in the same commit, when a child ends.</summary>
    public string? ParentToWake { get; set; }

    public List<WorkflowEvent> Events { get; } = [];

    /// <summary>The workflows triggers start in this commit; null until the change set is complete (see WorkflowEngine.CommitAsync).</summary>
    public IReadOnlyList<WorkflowRecord>? Triggered { get; set; }

    /// <summary>The record as stored once the commit succeeded.</summary>
    public WorkflowRecord Committed => Next with { Version = Next.Version + 1, LeaseOwner = Lease == LeaseAction.Release ? null : Next.LeaseOwner, LeaseExpiresAt = Lease == LeaseAction.Release ? null : Next.LeaseExpiresAt };
}

/// <summary>The engine's state transitions, as pure functions from a stored workflow to a <see cref="StepPlan"/>.</summary>
internal static partial class Steps
{
    private static readonly JsonElement JsonNull = RatchetJson.Parse("null");

    /// <summary>
    /// A node finished with <paramref name="outcome"/>: record its output and move to the node the outcome leads to, or
    /// end the workflow. <paramref name="continueHere"/> says the caller runs the next node at once (attempt 1, held);
    /// otherwise it is left at attempt 0, due now, for whichever worker claims it.
    /// </summary>
    public static StepPlan CompleteNode(
        WorkflowRecord workflow,
        NodeDefinition node,
        string outcome,
        JsonElement? output,
        IReadOnlyDictionary<string, JsonElement>? extraArtifacts,
        DateTimeOffset startedAt,
        DateTimeOffset now,
        bool continueHere,
        bool observe,
        IReadOnlyList<string>? progress = null,
        IReadOnlyList<CommandExecution>? commands = null)
    {
        var artifacts = new Dictionary<string, JsonElement>(workflow.Artifacts, StringComparer.Ordinal)
        {
            [node.Name] = output ?? JsonNull,
        };
        if (extraArtifacts is not null)
        {
            foreach (var (key, value) in extraArtifacts)
            {
                artifacts[key] = value;
            }
        }

        var target = node.TargetFor(outcome);
        var plan = new StepPlan(workflow);
        RecordCommands(plan, commands);
        plan.Changes.AppendStep(new StepRecord
        {
            WorkflowId = workflow.Id,
            Node = node.Name,
            Attempt = Math.Max(1, workflow.Attempt),
            Outcome = StepOutcome.Completed,
            Output = output,
            StartedAt = startedAt,
            FinishedAt = now,
        });
        foreach (var message in progress ?? [])
        {
            plan.Changes.AppendEvent(new AuditEvent
            {
                WorkflowId = workflow.Id, Type = "progress", Node = node.Name, Attempt = workflow.Attempt, At = now,
                Payload = RatchetJson.ToElement(new Dictionary<string, string> { ["message"] = message }),
            });
        }

        plan.Changes.AppendEvent(new AuditEvent
        {
            WorkflowId = workflow.Id,
            Type = AuditEventTypes.NodeCompleted,
            Node = node.Name,
            Attempt = Math.Max(1, workflow.Attempt),
            Payload = outcome == NodeResult.SuccessOutcome ? null : Payload(("outcome", outcome)),
            At = now,
        });
        if (observe)
        {
            plan.Events.Add(Event(WorkflowEventKind.NodeCompleted, workflow, now) with
            {
                Node = node.Name, Attempt = Math.Max(1, workflow.Attempt), Output = output, Duration = now - startedAt,
                Status = target is null ? (node.FailsWorkflow ? WorkflowStatus.Failed : WorkflowStatus.Completed) : WorkflowStatus.Running,
            });
        }

        if (target is null)
        {
            var final = node.FailsWorkflow ? WorkflowStatus.Failed : WorkflowStatus.Completed;
            var ended = ToStatus(workflow, final, now) with
            {
                CurrentNode = node.Name,
                Artifacts = artifacts,
                Error = final == WorkflowStatus.Failed
                    ? workflow.Error ?? new WorkflowError("failed", $"The workflow ended at its failure node '{node.Name}'.")
                    : null,
            };
            End(plan, workflow, ended, now, observe);
            return plan;
        }

        MoveTo(plan, workflow with { Artifacts = artifacts }, target, now, continueHere, observe);
        return plan;
    }

    /// <summary>
    /// A node attempt failed: retry it after a back-off if its policy allows, else take its failure path, else fail
    /// the workflow. The policy counts attempts from <paramref name="firstAttempt"/>, where a retry began them.
    /// </summary>
    public static StepPlan FailNode(
        WorkflowRecord workflow,
        WorkflowDefinition definition,
        NodeDefinition node,
        WorkflowError error,
        Exception? exception,
        DateTimeOffset startedAt,
        DateTimeOffset now,
        bool continueHere,
        bool observe,
        Random random,
        DateTimeOffset? deadline,
        IReadOnlyList<CommandExecution>? commands = null,
        int firstAttempt = 1)
    {
        var attempt = Math.Max(1, workflow.Attempt);
        var tries = attempt - Math.Clamp(firstAttempt, 1, attempt) + 1;
        error = error.Node is null ? error with { Node = node.Name } : error;
        var plan = new StepPlan(workflow);
        RecordCommands(plan, commands);
        plan.Changes.AppendStep(new StepRecord
        {
            WorkflowId = workflow.Id, Node = node.Name, Attempt = attempt, Outcome = StepOutcome.Failed, Error = error,
            StartedAt = startedAt, FinishedAt = now,
        });
        plan.Changes.AppendEvent(new AuditEvent
        {
            WorkflowId = workflow.Id, Type = AuditEventTypes.NodeFailed, Node = node.Name, Attempt = attempt, At = now,
            Payload = Payload(("error", error.Type), ("message", error.Message)),
        });
        if (observe)
        {
            plan.Events.Add(Event(WorkflowEventKind.NodeFailed, workflow, now) with
            {
                Node = node.Name, Attempt = attempt, Error = error, Duration = now - startedAt, Status = workflow.Status,
            });
        }

        var policy = definition.RetryFor(node);
        if (exception is not null && policy.CanRetry(exception, tries))
        {
            var due = StoreTime.Truncate(now + policy.DelayAfter(tries, random));
            if (deadline is null || due < deadline)
            {
                plan.Next = ToStatus(workflow, WorkflowStatus.Waiting, now, WaitReason.Timer) with { Attempt = attempt + 1, DueAt = due };
                plan.Lease = LeaseAction.Release;
                plan.Changes.AppendEvent(new AuditEvent
                {
                    WorkflowId = workflow.Id, Type = AuditEventTypes.RetryScheduled, Node = node.Name, Attempt = attempt + 1, At = now,
                    Payload = Payload(("dueAt", due.ToString("O", CultureInfo.InvariantCulture)), ("delayMs", ((long)(due - now).TotalMilliseconds).ToString(CultureInfo.InvariantCulture))),
                });
                if (observe)
                {
                    plan.Events.Add(Event(WorkflowEventKind.RetryScheduled, workflow, now) with
                    {
                        Node = node.Name, Attempt = attempt + 1, DueAt = due, Error = error, Status = WorkflowStatus.Waiting, WaitReason = WaitReason.Timer,
                    });
                }

                return plan;
            }
        }

        if (node.FailureTarget is { } failureTarget && failureTarget != WorkflowDefinition.End)
        {
            MoveTo(plan, workflow with { Error = error }, failureTarget, now, continueHere, observe);
            return plan;
        }

        var failed = ToStatus(workflow, WorkflowStatus.Failed, now) with { Error = error, CurrentNode = node.Name };
        End(plan, workflow, failed, now, observe);
        return plan;
    }

    /// <summary>
    /// The first attempt of the run of attempts that <paramref name="attempt"/> of <paramref name="node"/> belongs to:
    /// back along the audit trail over that node's node-started events (a retry's, an interrupted attempt's again, a
    /// recovered one's), while their attempts do not grow, to a retry, a completed node or another node's start.
    /// </summary>
    public static int FirstAttempt(IReadOnlyList<AuditEvent> events, string node, int attempt)
    {
        var first = attempt;
        for (var i = events.Count - 1; i >= 0; i--)
        {
            var auditEvent = events[i];
            if (auditEvent.Type is AuditEventTypes.Retried or AuditEventTypes.NodeCompleted)
            {
                break;
            }

            if (auditEvent.Type != AuditEventTypes.NodeStarted)
            {
                continue;
            }

            if (auditEvent.Node != node || auditEvent.Attempt is not { } started || started > first)
            {
                break;
            }

            first = started;
        }

        return Math.Max(1, first);
    }

    /// <summary>
    /// Goes on to <paramref name="target"/>, Running: at attempt 1 and still held when the caller runs it at once
    /// (<paramref name="continueHere"/>), else at attempt 0, due now and released, for whichever worker claims it.
    /// </summary>
    private static void MoveTo(StepPlan plan, WorkflowRecord workflow, string target, DateTimeOffset now, bool continueHere, bool observe)
    {
        plan.Next = ToStatus(workflow, WorkflowStatus.Running, now) with
        {
            CurrentNode = target,
            Attempt = continueHere ? 1 : 0,
            DueAt = continueHere ? workflow.DueAt ?? now : now,
        };
        plan.Continue = continueHere;
        plan.Lease = continueHere ? LeaseAction.Keep : LeaseAction.Release;
        if (continueHere)
        {
            NodeStarted(plan, target, 1, now, observe);
        }
    }

    /// <summary>Parks the workflow at an approval node, asking the prompt rendered from the workflow as it is now.</summary>
    public static StepPlan ParkForApproval(WorkflowRecord workflow, ApprovalNodeDefinition node, DateTimeOffset now, bool observe)
    {
        var prompt = node.PromptFor(workflow);
        return Park(workflow, node, WaitReason.Approval, null, null, now, observe,
            Payload(("reason", nameof(WaitReason.Approval)), ("prompt", prompt)), prompt);
    }

    /// <summary>
    /// Parks the workflow at its current node until something outside it happens. Observers are told what it waits
    /// for: <c>message</c>, else <c>detail</c>.
    /// </summary>
    public static StepPlan Park(WorkflowRecord workflow, NodeDefinition node, WaitReason reason, string? detail, DateTimeOffset? dueAt, DateTimeOffset now, bool observe, JsonElement? payload = null, string? message = null)
    {
        var plan = new StepPlan(ToStatus(workflow, WorkflowStatus.Waiting, now, reason) with
        {
            WaitDetail = detail,
            DueAt = dueAt,
            Attempt = Math.Max(1, workflow.Attempt),
        })
        {
            Lease = LeaseAction.Release,
        };
        plan.Changes.AppendEvent(new AuditEvent
        {
            WorkflowId = workflow.Id, Type = AuditEventTypes.Waiting, Node = node.Name, Attempt = Math.Max(1, workflow.Attempt), At = now,
            Payload = payload ?? Payload(("reason", reason.ToString()), ("detail", detail)),
        });
        if (observe)
        {
            plan.Events.Add(Event(WorkflowEventKind.Waiting, workflow, now) with
            {
                Node = node.Name, Status = WorkflowStatus.Waiting, WaitReason = reason, DueAt = dueAt, Message = message ?? detail,
            });
        }

        return plan;
    }

    /// <summary>
    /// A running node was stopped on purpose (Ctrl-C, a worker shutting down): park the workflow as Interrupted at the
    /// same attempt, due now, so that whoever resumes it runs that attempt again, with no retry used up and no failure
    /// path taken. The commands it ran are recorded with their (missing) exit codes.
    /// </summary>
    public static StepPlan Interrupt(WorkflowRecord workflow, NodeDefinition node, string reason, DateTimeOffset startedAt, DateTimeOffset now, bool observe, IReadOnlyList<CommandExecution>? commands)
    {
        var attempt = Math.Max(1, workflow.Attempt);
        var plan = new StepPlan(ToStatus(workflow, WorkflowStatus.Waiting, now, WaitReason.Interrupted) with
        {
            Attempt = attempt,
            DueAt = now,
            WaitDetail = null,
        })
        {
            Lease = LeaseAction.Release,
        };
        RecordCommands(plan, commands);
        plan.Changes.AppendEvent(new AuditEvent
        {
            WorkflowId = workflow.Id, Type = AuditEventTypes.Interrupted, Node = node.Name, Attempt = attempt, At = now,
            Payload = Payload(("reason", reason), ("ranMs", ((long)(now - startedAt).TotalMilliseconds).ToString(CultureInfo.InvariantCulture))),
        });
        if (observe)
        {
            plan.Events.Add(Event(WorkflowEventKind.Interrupted, workflow, now) with
            {
                Node = node.Name, Attempt = attempt, Message = reason, Duration = now - startedAt, Status = WorkflowStatus.Waiting,
                WaitReason = WaitReason.Interrupted,
            });
        }

        return plan;
    }

    /// <summary>A node attempt is about to run on a workflow that is not already Running at it (picked up from the store).</summary>
    public static StepPlan Begin(WorkflowRecord workflow, int attempt, DateTimeOffset now, bool observe, bool interrupted)
    {
        var plan = new StepPlan(ToStatus(workflow, WorkflowStatus.Running, now) with { Attempt = attempt, DueAt = workflow.DueAt ?? now })
        {
            Continue = true,
        };

        // The workflow becomes Running before its node starts: say so in that order.
        AddStatusEvent(plan, workflow);
        if (interrupted)
        {
            Recovered(plan, workflow, attempt, now, observe);
        }

        NodeStarted(plan, workflow.CurrentNode!, attempt, now, observe);
        return plan;
    }

    /// <summary>The attempt a dead process left running at the workflow's current node is taken over as <paramref name="attempt"/>.</summary>
    private static void Recovered(StepPlan plan, WorkflowRecord workflow, int attempt, DateTimeOffset now, bool observe)
    {
        plan.Changes.AppendEvent(new AuditEvent
        {
            WorkflowId = workflow.Id, Type = AuditEventTypes.Recovered, Node = workflow.CurrentNode, Attempt = attempt, At = now,
            Payload = Payload(("interruptedAttempt", workflow.Attempt.ToString(CultureInfo.InvariantCulture))),
        });
        if (observe)
        {
            plan.Events.Add(Event(WorkflowEventKind.Recovered, workflow, now) with { Node = workflow.CurrentNode, Attempt = attempt, Status = WorkflowStatus.Running });
        }
    }

    /// <summary>
    /// The workflow moves to <paramref name="status"/>. A waiting workflow whose node finishes (an approval, a signal,
    /// a child, a timer) first becomes Running and then moves on, both in the same commit: Waiting cannot go straight
    /// to Completed or to another wait, but resuming and then finishing is exactly what happened.
    /// </summary>
    public static WorkflowRecord ToStatus(WorkflowRecord workflow, WorkflowStatus status, DateTimeOffset now, WaitReason reason = WaitReason.None)
    {
        if (workflow.Status == status && workflow.WaitReason == reason)
        {
            return workflow with { UpdatedAt = now };
        }

        if (workflow.Status == WorkflowStatus.Waiting && status != WorkflowStatus.Running && !WorkflowLifecycle.CanTransition(workflow.Status, status)
            || (workflow.Status == WorkflowStatus.Waiting && status == WorkflowStatus.Waiting))
        {
            workflow = workflow.TransitionTo(WorkflowStatus.Running, now);
        }

        return workflow.TransitionTo(status, now, reason);
    }

    public static void AddStatusEvent(StepPlan plan, WorkflowRecord before, string? reason = null)
    {
        var after = plan.Next;
        if (plan.HasStatusEvent || (before.Status == after.Status && before.WaitReason == after.WaitReason))
        {
            return;
        }

        plan.HasStatusEvent = true;
        plan.Changes.AppendEvent(new AuditEvent
        {
            WorkflowId = before.Id,
            Type = AuditEventTypes.StatusChanged,
            Node = after.CurrentNode,
            At = after.UpdatedAt,
            Payload = Payload(
                ("from", Describe(before.Status, before.WaitReason)),
                ("to", Describe(after.Status, after.WaitReason)),
                ("reason", reason)),
        });
    }

    /// <summary>A node's shell commands, each with a command-executed event, ahead of the node's own record.</summary>
    private static void RecordCommands(StepPlan plan, IReadOnlyList<CommandExecution>? commands)
    {
        foreach (var command in commands ?? [])
        {
            plan.Changes.RecordCommand(command);
            plan.Changes.AppendEvent(new AuditEvent
            {
                WorkflowId = command.WorkflowId, Type = AuditEventTypes.CommandExecuted, Node = command.Node, Attempt = command.Attempt,
                At = command.StartedAt + command.Duration,
                Payload = Payload(
                    ("command", command.CommandLine),
                    ("exitCode", command.ExitCode?.ToString(CultureInfo.InvariantCulture)),
                    ("durationMs", ((long)command.Duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))),
            });
        }
    }

    public static JsonElement Payload(params (string Key, string? Value)[] fields)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in fields)
        {
            if (value is not null)
            {
                map[key] = value;
            }
        }

        return RatchetJson.ToElement(map);
    }

    public static WorkflowEvent Event(WorkflowEventKind kind, WorkflowRecord workflow, DateTimeOffset now) => new()
    {
        Kind = kind, WorkflowId = workflow.Id, WorkflowType = workflow.Type, At = now, Status = workflow.Status, WaitReason = workflow.WaitReason,
    };

    private static void End(StepPlan plan, WorkflowRecord before, WorkflowRecord ended, DateTimeOffset now, bool observe)
    {
        plan.Next = ended;
        plan.Lease = LeaseAction.Release;
        plan.ParentToWake = before.ParentId;
        if (observe)
        {
            plan.Events.Add(Event(ended.Status == WorkflowStatus.Completed ? WorkflowEventKind.Completed : WorkflowEventKind.Failed, ended, now) with
            {
                Node = ended.CurrentNode, Error = ended.Error, Duration = now - before.CreatedAt,
            });
        }
    }

    private static void NodeStarted(StepPlan plan, string node, int attempt, DateTimeOffset now, bool observe)
    {
        plan.Changes.AppendEvent(new AuditEvent { WorkflowId = plan.Next.Id, Type = AuditEventTypes.NodeStarted, Node = node, Attempt = attempt, At = now });
        if (observe)
        {
            plan.Events.Add(Event(WorkflowEventKind.NodeStarted, plan.Next, now) with { Node = node, Attempt = attempt, Status = WorkflowStatus.Running });
        }
    }

    private static string Describe(WorkflowStatus status, WaitReason reason) =>
        status == WorkflowStatus.Waiting ? $"Waiting({reason})" : status.ToString();
}
