using System.Diagnostics;
using Ratchet.Storage;

namespace Ratchet.Engine;

public sealed partial class WorkflowRunner
{
    private async Task ExecuteAsync(WorkItem item)
    {
        var workflow = item.Workflow;
        var id = workflow.Id;
        using var execution = new Execution(_abort.Token);
        if (!_inflight.TryAdd(id, execution))
        {
            _superseded[id] = workflow;
            return;
        }

        using var activity = StartWorkflowActivity(workflow);
        var holdsLease = true;
        try
        {
            var definition = PhaseWorkflows.IsPhaseWorkflow(workflow) ? await ResolvePhaseAsync(workflow, execution) : _engine.ResolveDefinition(workflow);
            if (definition is null)
            {
                holdsLease = await LeaveUnrunnableAsync(workflow);
                return;
            }

            var last = workflow;
            var visits = new VisitCounter(definition.MaxVisits ?? _options.MaxVisits);
            WorkflowRecord? current = item.Fresh ? workflow : await BeginAsync(workflow, definition, committed => last = committed);
            while (current is { Status: WorkflowStatus.Running } && !execution.Token.IsCancellationRequested)
            {
                workflow = current;
                current = await StepAsync(current, definition, execution, visits, committed => last = committed);
            }

            holdsLease = current is { Status: WorkflowStatus.Running };
            activity?.SetTag(RatchetTelemetry.Tags.Outcome, holdsLease ? "stopped" : Outcome(last));
        }
        catch (WorkflowConcurrencyException ex) when (ex.WorkflowId == id)
        {
            // Someone else moved the workflow on (a cancel, or a worker that took it over): our work is void. A cancel
            // left us the lease (a takeover did not: releasing is a no-op then), unless we took it back ourselves.
            holdsLease = !_superseded.ContainsKey(id);
            Log.LostOwnership(_engine.Logger, id, ex);
            activity?.SetTag(RatchetTelemetry.Tags.Outcome, "lost");
        }
        catch (Exception) when (execution.Token.IsCancellationRequested)
        {
            if (execution.AbandonedBecause is { } reason)
            {
                // Someone else may run it now: nothing of ours may be committed. If the lease still names this runner
                // (it lapsed because the store could not be reached), it is released once the store answers again:
                // renewing every lease of this runner would otherwise keep it from everyone. Releasing is a no-op
                // when another owner holds it.
                holdsLease = false;
                if (!_superseded.ContainsKey(id))
                {
                    _unreleased[id] = 0;
                }

                if (execution.AbandonedForStoreError is { } storeError)
                {
                    // An outage, not a takeover: a run that follows this workflow ends with the store's error.
                    Fault(id, storeError);
                }

                Log.LeaseLost(_engine.Logger, id, reason);
                activity?.SetTag(RatchetTelemetry.Tags.Outcome, "lost");
            }
            else
            {
                // Cancelled elsewhere, the canceller left us the lease until the node stopped: release it now, which
                // tells the canceller the node has stopped. A runner stopping releases what it still holds too.
                holdsLease = true;
                activity?.SetTag(RatchetTelemetry.Tags.Outcome, execution.CancelledByRequest ? "cancelled" : "stopped");
            }
        }
        catch (Exception ex)
        {
            // The store failed under us, past the commit's retries, or refused the result for good. The workflow stays
            // as last committed, resumable; this runner does not run it again at once (its node would only run again
            // to meet the same failure), and a run that follows it or a worker --until-idle ends with the error.
            Log.ExecutionFailed(_engine.Logger, id, ex);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Fault(id, ex);
        }
        finally
        {
            _inflight.TryRemove(id, out _);
            if (holdsLease)
            {
                // Stopping (or a store failure) mid-node: let anyone resume it at once rather than after the lease.
                await TryReleaseAsync(id);
            }

            if (_superseded.TryRemove(id, out var next))
            {
                Interlocked.Increment(ref _queued);
                if (!_ready.Writer.TryWrite(new WorkItem(next, Fresh: false)))
                {
                    Interlocked.Decrement(ref _queued);
                    await TryReleaseAsync(id);
                }
            }
        }
    }

    /// <summary>
    /// A workflow claimed from the store: commit that its node (re)starts, then return it to run. Null when there is
    /// nothing to run now (it waits for someone, or it ended meanwhile).
    /// </summary>
    private static string Outcome(WorkflowRecord workflow) => workflow switch
    {
        { Status: WorkflowStatus.Completed } => "completed",
        { Status: WorkflowStatus.Failed } => "failed",
        { Status: WorkflowStatus.Cancelled } => "cancelled",
        { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Timer } => "retry",
        { Status: WorkflowStatus.Waiting } => "waiting",
        _ => "running",
    };

    private async Task<WorkflowRecord?> BeginAsync(WorkflowRecord workflow, WorkflowDefinition definition, Action<WorkflowRecord> committedTo)
    {
        var now = _engine.Clock.GetStoreNow();
        var observe = _engine.Observers.HasObservers;
        StepPlan plan;
        switch (workflow.Status, workflow.WaitReason)
        {
            case (WorkflowStatus.Pending, _):
                plan = Steps.Begin(workflow with { CurrentNode = workflow.CurrentNode ?? definition.StartNode }, 1, now, observe, interrupted: false);
                break;
            case (WorkflowStatus.Running, _) when workflow.Attempt == 0:
                plan = Steps.Begin(workflow, 1, now, observe, interrupted: false);
                break;
            case (WorkflowStatus.Running, _):
                Log.Recovered(_engine.Logger, workflow.Id, workflow.CurrentNode ?? "?", workflow.Attempt + 1);
                plan = Steps.Begin(workflow, workflow.Attempt + 1, now, observe, interrupted: true);
                await StopLeftoverProcessesAsync(workflow, plan);
                break;
            case (WorkflowStatus.Waiting, WaitReason.Interrupted):
                // Stopped on purpose: the same attempt runs again, using up no retry.
                plan = Steps.Begin(workflow, Math.Max(1, workflow.Attempt), now, observe, interrupted: false);
                await StopLeftoverProcessesAsync(workflow, plan);
                break;
            case (WorkflowStatus.Waiting, WaitReason.Timer) when definition[workflow.CurrentNode!] is DelayNodeDefinition:
                plan = Steps.CompleteNode(workflow, definition[workflow.CurrentNode!], NodeResult.SuccessOutcome, null, null,
                    workflow.UpdatedAt, now, continueHere: true, observe);
                break;
            case (WorkflowStatus.Waiting, WaitReason.Timer):
                plan = Steps.Begin(workflow, Math.Max(1, workflow.Attempt), now, observe, interrupted: false);
                break;
            case (WorkflowStatus.Waiting, WaitReason.Signal) when workflow.DueAt <= now && definition[workflow.CurrentNode!] is SignalNodeDefinition waited:
                plan = Steps.SignalTimedOut(workflow, definition, waited, now, observe);
                break;
            case (WorkflowStatus.Waiting, WaitReason.Child):
                var child = workflow.WaitDetail is null ? null : await _engine.Store.GetWorkflowAsync(workflow.WaitDetail);
                if (child is not { IsTerminal: true })
                {
                    await TryReleaseAsync(workflow.Id);
                    return null;
                }

                plan = ChildEnded(workflow, definition, child, now, observe, await FirstAttemptAsync(workflow));
                break;
            default:
                await TryReleaseAsync(workflow.Id);
                return null;
        }

        var committed = await CommitPlanAsync(plan, workflow);
        committedTo(committed);
        AfterCommit(plan, committed);
        return plan.Continue ? committed : null;
    }

    /// <summary>Runs the current node of a Running workflow this runner holds, and commits its result.</summary>
    private async Task<WorkflowRecord?> StepAsync(WorkflowRecord workflow, WorkflowDefinition definition, Execution execution, VisitCounter visits, Action<WorkflowRecord> committedTo)
    {
        var node = definition[workflow.CurrentNode!];
        var now = _engine.Clock.GetStoreNow();
        execution.Running(workflow, _engine.Clock.GetUtcNow());
        var observe = _engine.Observers.HasObservers;
        var deadline = definition.Timeout is { } limit ? workflow.CreatedAt + limit : (DateTimeOffset?)null;
        StepPlan plan;
        if (deadline is { } due && now >= due)
        {
            var error = new WorkflowError("workflow-timeout", $"Workflow '{workflow.Id}' ran longer than its limit of {definition.Timeout}.");
            // Past the workflow's deadline no failure path runs either: it would be past the deadline too.
            plan = FailWithoutRunning(workflow, node, error, now, observe);
        }
        else if (await visits.ExceededAsync(workflow, _engine.Store))
        {
            // Nor past its visits: a failure path is more visits.
            plan = FailWithoutRunning(workflow, node, VisitLimitError(workflow, visits.Limit), now, observe);
        }
        else
        {
            switch (node)
            {
                case ApprovalNodeDefinition approval:
                    plan = Steps.ParkForApproval(workflow, approval, now, observe);
                    break;
                case SignalNodeDefinition signal:
                    plan = await ReceiveOrParkAsync(workflow, signal, now, observe);
                    break;
                case DelayNodeDefinition delay:
                    plan = Steps.ParkForDelay(workflow, definition, delay, now, observe, deadline);
                    break;
                case SubWorkflowNodeDefinition child:
                    committedTo(workflow with { Status = WorkflowStatus.Waiting, WaitReason = WaitReason.Child });
                    return await StartChildAsync(workflow, child, execution);
                case ActionNodeDefinition action:
                    plan = await RunActionAsync(workflow, definition, action, execution, deadline);
                    break;
                default:
                    throw new UnreachableException($"Node '{node.Name}' is of a kind the runner does not run: {node.GetType().Name}.");
            }
        }

        if (execution.AbandonedBecause is not null)
        {
            // The lease went while the node ran: its result must not be committed (and would be refused).
            execution.Token.ThrowIfCancellationRequested();
        }

        execution.Between();
        WorkflowRecord committed;
        try
        {
            committed = await CommitPlanAsync(ForPhase(plan, workflow, execution), workflow);
        }
        catch (SignalConflictException) when (node is SignalNodeDefinition signal)
        {
            // The signal was sent between our look at the pending signals and the park, which the store refused for
            // it: take it now. (A park is refused only for a signal sent meanwhile, so this look finds it.)
            plan = await ReceiveOrParkAsync(workflow, signal, _engine.Clock.GetStoreNow(), observe);
            committed = await CommitPlanAsync(ForPhase(plan, workflow, execution), workflow);
        }
        catch (Exception ex) when (node is ActionNodeDefinition && plan.Next.Status != WorkflowStatus.Failed && !IsStoreTrouble(ex) && ex is not WorkflowConcurrencyException)
        {
            // The store will not take this result (it cannot encode it, say), and running the node again would only
            // meet the same refusal: the node fails instead, with the store's reason, which its failure path sees.
            // The commands it ran stay in the audit, without their output tails, which may be what was refused.
            var error = new WorkflowError("store-refused", $"The store refused the result of node '{node.Name}': {ex.Message}");
            var commands = plan.Changes.Commands.Select(c => c with { StdoutTail = "", StderrTail = "" }).ToList();
            plan = Steps.FailNode(workflow, definition, node, error, exception: null, now, _engine.Clock.GetStoreNow(),
                continueHere: true, observe, Random.Shared, deadline, commands, await FirstAttemptAsync(workflow));
            committed = await CommitPlanAsync(ForPhase(plan, workflow, execution), workflow);
        }

        committedTo(committed);
        AfterCommit(plan, committed);
        return plan.Continue ? committed : null;
    }

    /// <summary>
    /// At a wait for a signal: the oldest pending signal of its name completes the node at once, consumed in the same
    /// commit; with none pending the workflow parks, on the condition that none is pending still, so that a signal
    /// sent meanwhile refuses the park instead of waiting unseen beside it.
    /// </summary>
    private async Task<StepPlan> ReceiveOrParkAsync(WorkflowRecord workflow, SignalNodeDefinition node, DateTimeOffset now, bool observe)
    {
        var pending = await _engine.Store.GetPendingSignalsAsync(workflow.Id, CancellationToken.None);
        var buffered = pending.FirstOrDefault(s => string.Equals(s.Name, node.SignalName, StringComparison.Ordinal));
        if (buffered is not null)
        {
            return Steps.ReceiveSignal(workflow, node, buffered, now, observe);
        }

        var plan = Steps.Park(workflow, node, WaitReason.Signal, node.SignalName,
            node.Timeout is { } timeout ? StoreTime.Truncate(now + timeout) : null, now, observe);
        plan.Changes.ExpectNoPendingSignal(workflow.Id, node.SignalName);
        return plan;
    }

    private async Task<StepPlan> RunActionAsync(WorkflowRecord workflow, WorkflowDefinition definition, ActionNodeDefinition node, Execution execution, DateTimeOffset? deadline)
    {
        var clock = _engine.Clock;
        var started = clock.GetStoreNow();
        var observe = _engine.Observers.HasObservers;
        var tags = new TagList
        {
            { RatchetTelemetry.Tags.WorkflowType, workflow.Type },
            { RatchetTelemetry.Tags.Node, node.Name },
        };
        RatchetTelemetry.NodesStarted.Add(1, tags);
        using var activity = RatchetTelemetry.ActivitySource.HasListeners() ? RatchetTelemetry.ActivitySource.StartActivity($"node {node.Name}") : null;
        if (activity is not null)
        {
            activity.SetTag(RatchetTelemetry.Tags.WorkflowId, workflow.Id);
            activity.SetTag(RatchetTelemetry.Tags.WorkflowType, workflow.Type);
            activity.SetTag(RatchetTelemetry.Tags.Node, node.Name);
            activity.SetTag(RatchetTelemetry.Tags.Attempt, workflow.Attempt);
        }

        List<string>? progress = null;
        Task ReportProgress(string message, CancellationToken cancellationToken)
        {
            lock (execution)
            {
                (progress ??= []).Add(message);
            }

            if (observe)
            {
                _engine.Observers.Publish(Steps.Event(WorkflowEventKind.Progress, workflow, clock.GetStoreNow()) with
                {
                    Node = node.Name, Attempt = workflow.Attempt, Message = message, Status = WorkflowStatus.Running,
                });
            }

            return Task.CompletedTask;
        }

        var limit = node.Timeout;
        if (deadline is { } due && (limit is null || due - started < limit))
        {
            limit = due - started;
        }

        using var timeout = limit is { } l ? new CancellationTokenSource(l, clock) : null;
        using var linked = timeout is null
            ? CancellationTokenSource.CreateLinkedTokenSource(execution.Token)
            : CancellationTokenSource.CreateLinkedTokenSource(execution.Token, timeout.Token);
        var context = new NodeContext(workflow, node.Name, workflow.Attempt, _engine.Services, clock, ReportProgress, linked.Token,
            (group, cancellationToken) => RecordProcessGroupAsync(workflow, node.Name, group, cancellationToken))
        {
            StopGracePeriod = _options.StopGracePeriod,
        };
        StepPlan plan;
        string outcome;
        try
        {
            var result = await node.Factory(_engine.Services).ExecuteAsync(context, linked.Token);
            linked.Token.ThrowIfCancellationRequested();
            EnsureStorable(node, result, context.SetArtifacts);
            plan = Steps.CompleteNode(workflow, node, result.Outcome, result.Output, context.SetArtifacts, started,
                clock.GetStoreNow(), continueHere: true, observe, progress, context.Commands);
            outcome = "completed";
            RatchetTelemetry.NodesCompleted.Add(1, tags);
        }
        catch (OperationCanceledException) when (timeout?.IsCancellationRequested == true && !execution.Token.IsCancellationRequested)
        {
            var error = new WorkflowError("timeout", $"Node '{node.Name}' ran longer than {limit}.");
            plan = Steps.FailNode(workflow, definition, node, error, new TimeoutException(error.Message), started, clock.GetStoreNow(),
                continueHere: true, observe, Random.Shared, deadline, context.Commands, await FirstAttemptAsync(workflow));
            outcome = "timeout";
            RatchetTelemetry.NodesFailed.Add(1, tags);
        }
        catch (Exception) when (execution.Token.IsCancellationRequested && !execution.CancelledByRequest && execution.AbandonedBecause is null)
        {
            // The runner is stopping (Ctrl-C, shutdown): an interruption, not a failure. No retry is used up and no
            // failure path runs; the same attempt runs again when the workflow is resumed.
            plan = Steps.Interrupt(workflow, node, $"stopped by {Owner}", started, clock.GetStoreNow(), observe, context.Commands);
            outcome = "interrupted";
        }
        catch (Exception ex) when (!execution.Token.IsCancellationRequested)
        {
            Log.NodeFailed(_engine.Logger, workflow.Id, node.Name, workflow.Attempt, ex);
            plan = Steps.FailNode(workflow, definition, node, WorkflowError.FromException(ex), ex, started, clock.GetStoreNow(),
                continueHere: true, observe, Random.Shared, deadline, context.Commands, await FirstAttemptAsync(workflow));
            outcome = "failed";
            RatchetTelemetry.NodesFailed.Add(1, tags);
        }

        if (RatchetTelemetry.NodeDuration.Enabled)
        {
            RatchetTelemetry.NodeDuration.Record((clock.GetStoreNow() - started).TotalSeconds, tags);
        }

        if (plan.Next is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Timer })
        {
            outcome = "retry";
            RatchetTelemetry.NodesRetried.Add(1, tags);
            Log.RetryScheduled(_engine.Logger, workflow.Id, node.Name, plan.Next.Attempt, plan.Next.DueAt!.Value);
        }

        activity?.SetTag(RatchetTelemetry.Tags.Outcome, outcome);
        return plan;
    }

    /// <summary>A value the store could hold but never export fails the node that made it, not the store later.</summary>
    private static void EnsureStorable(NodeDefinition node, NodeResult result, IReadOnlyDictionary<string, System.Text.Json.JsonElement>? artifacts)
    {
        Serialization.RatchetJson.EnsureDepth(result.Output, $"The output of node '{node.Name}'");
        foreach (var (name, value) in artifacts ?? new Dictionary<string, System.Text.Json.JsonElement>())
        {
            Serialization.RatchetJson.EnsureDepth(value, $"The artifact '{name}' that node '{node.Name}' set");
        }
    }

    /// <summary>Starts the child and parks the parent in one commit; the child runs here at once if this runner knows its type.</summary>
    private async Task<WorkflowRecord?> StartChildAsync(WorkflowRecord parent, SubWorkflowNodeDefinition node, Execution execution)
    {
        var now = _engine.Clock.GetStoreNow();
        var observe = _engine.Observers.HasObservers;
        var context = new NodeContext(parent, node.Name, parent.Attempt, _engine.Services, _engine.Clock, static (_, _) => Task.CompletedTask, execution.Token);
        var childDefinition = _engine.Definitions.Contains(node.ChildType) ? _engine.Definitions.Latest(node.ChildType) : null;
        // A child in a queue takes a slot only through the store's claim, like any workflow of its queue.
        var runHere = childDefinition is { Queue: null } && IsAccepting;
        if (childDefinition?.Queue is { } queue)
        {
            await _engine.EnsureQueueAsync(queue, CancellationToken.None);
        }

        var request = new NewWorkflow
        {
            Type = node.ChildType,
            Input = node.ChildInput(context),
            ParentId = parent.Id,
            DefinitionVersion = childDefinition?.Version ?? "",
            StartNode = childDefinition?.StartNode,
            TraceParent = parent.TraceParent,
        };
        StepPlan? park = null;
        var created = await _engine.Creator.CreateAsync(childDefinition?.Place(request) ?? request, (pending, changes) =>
        {
            park = Steps.Park(parent, node, WaitReason.Child, pending.Id, null, now, observe,
                Steps.Payload(("reason", nameof(WaitReason.Child)), ("child", pending.Id), ("childType", pending.Type)));
            Steps.AddStatusEvent(park, parent);
            changes.UpdateWorkflow(park.Next, park.Lease);
            foreach (var auditEvent in park.Changes.Events)
            {
                changes.AppendEvent(auditEvent);
            }

            return runHere
                ? pending.TransitionTo(WorkflowStatus.Running, now) with { Attempt = 1, LeaseOwner = Owner, LeaseExpiresAt = now + _options.LeaseDuration }
                : pending;
        }, CancellationToken.None);

        _engine.Observers.Publish(park!.Events);
        _engine.SignalChange(parent.Id);
        AddToFocus(parent.Id, created.Workflow.Id);
        if (observe)
        {
            _engine.Observers.Publish(Steps.Event(WorkflowEventKind.Started, created.Workflow, now));
            if (runHere)
            {
                _engine.Observers.Publish(Steps.Event(WorkflowEventKind.NodeStarted, created.Workflow, now) with
                {
                    Node = created.Workflow.CurrentNode, Attempt = 1, Status = WorkflowStatus.Running,
                });
            }
        }

        RatchetTelemetry.WorkflowsStarted.Add(1, new KeyValuePair<string, object?>(RatchetTelemetry.Tags.WorkflowType, node.ChildType));
        if (runHere && created.Workflow.LeaseOwner == Owner)
        {
            Accept(created.Workflow);
        }
        else if (created.Workflow.Queue is not null)
        {
            Nudge();
        }

        return null;
    }

    /// <summary>A parent's child ended: its output becomes the node's output, or its failure the node's failure.</summary>
    private static StepPlan ChildEnded(WorkflowRecord parent, WorkflowDefinition definition, WorkflowRecord child, DateTimeOffset now, bool observe, int firstAttempt)
    {
        var node = definition[parent.CurrentNode!];
        if (child.Status == WorkflowStatus.Completed)
        {
            var output = child.CurrentNode is { } last && child.Artifacts.TryGetValue(last, out var value) ? value : (System.Text.Json.JsonElement?)null;
            return Steps.CompleteNode(parent, node, NodeResult.SuccessOutcome, output, null, parent.UpdatedAt, now, continueHere: true, observe);
        }

        var error = new WorkflowError(
            child.Status == WorkflowStatus.Cancelled ? "child-cancelled" : "child-failed",
            $"Sub-workflow '{child.Id}' ({child.Type}) {child.Status.ToString().ToLowerInvariant()}: {child.Error?.Message ?? "no error given"}");
        // A failed child is retried like any failing node; a cancelled one was stopped on purpose and is not.
        var retryable = child.Status == WorkflowStatus.Failed ? new ChildWorkflowFailedException(child.Id, error.Message) : null;
        return Steps.FailNode(parent, definition, node, error, retryable, parent.UpdatedAt, now,
            continueHere: true, observe, Random.Shared, deadline: null, firstAttempt: firstAttempt);
    }

    private void AfterCommit(StepPlan plan, WorkflowRecord committed)
    {
        if (committed is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Timer or WaitReason.Signal, DueAt: { } due })
        {
            AddTimer(committed.Id, due);
        }
    }

    private static StepPlan FailWithoutRunning(WorkflowRecord workflow, NodeDefinition node, WorkflowError error, DateTimeOffset now, bool observe)
    {
        var plan = new StepPlan(Steps.ToStatus(workflow, WorkflowStatus.Failed, now) with { Error = error, CurrentNode = node.Name })
        {
            Lease = LeaseAction.Release,
            ParentToWake = workflow.ParentId,
        };
        if (observe)
        {
            plan.Events.Add(Steps.Event(WorkflowEventKind.Failed, plan.Next, now) with { Node = node.Name, Error = error });
        }

        return plan;
    }

    /// <summary>
    /// Commits a plan of this runner's, through brief store trouble: a transient failure is tried again with a growing
    /// pause, up to <see cref="RatchetOptions.CommitAttempts"/> times. A try that failed may have committed all the same
    /// (the answer was lost): the next one is then refused for its version, and the stored record tells whether it was
    /// ours, in which case the result stands and nothing runs twice.
    /// </summary>
    internal async Task<WorkflowRecord> CommitPlanAsync(StepPlan plan, WorkflowRecord before)
    {
        var delay = _options.CommitRetryDelay;
        var failedBefore = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await _engine.CommitAsync(plan, before, null, CancellationToken.None);
            }
            catch (WorkflowConcurrencyException ex) when (failedBefore && ex.WorkflowId == before.Id)
            {
                if (await CommittedEarlierAsync(plan) is { } stored)
                {
                    return stored;
                }

                throw;
            }
            catch (Exception ex) when (IsStoreTrouble(ex) && attempt < _options.CommitAttempts)
            {
                failedBefore = true;
                Log.CommitRetrying(_engine.Logger, before.Id, attempt, delay, ex);
                await Task.Delay(delay, _engine.Clock);
                delay = delay * 2 < TimeSpan.FromSeconds(5) ? delay * 2 : TimeSpan.FromSeconds(5);
            }
        }
    }

    /// <summary>The stored workflow, if it is the record <paramref name="plan"/> would have written (a lost answer to a commit that succeeded).</summary>
    private async Task<WorkflowRecord?> CommittedEarlierAsync(StepPlan plan)
    {
        var expected = plan.Committed;
        var stored = await _engine.Store.GetWorkflowAsync(expected.Id, CancellationToken.None);
        return stored is not null && stored.Version == expected.Version && stored.UpdatedAt == expected.UpdatedAt &&
            stored.Status == expected.Status && stored.WaitReason == expected.WaitReason &&
            stored.CurrentNode == expected.CurrentNode && stored.Attempt == expected.Attempt
            ? stored
            : null;
    }

    /// <summary>Trouble that may pass (the store unreachable, locked, failing over): worth trying the same write again.</summary>
    private static bool IsStoreTrouble(Exception exception) =>
        exception is RatchetException { IsTransient: true } or TimeoutException;

    /// <summary>
    /// Records, in a commit of its own, the process group a node's command runs in, before the command may start: if
    /// this process dies, whoever takes the attempt over finds it and stops it first.
    /// </summary>
    private async Task RecordProcessGroupAsync(WorkflowRecord workflow, string node, ProcessGroup group, CancellationToken cancellationToken)
    {
        await _engine.Store.CommitAsync(new ChangeSet().AppendEvent(new AuditEvent
        {
            WorkflowId = workflow.Id, Type = AuditEventTypes.ProcessStarted, Node = node, Attempt = workflow.Attempt,
            At = _engine.Clock.GetStoreNow(), Payload = group.ToPayload(),
        }), cancellationToken);
    }

    /// <summary>
    /// Before an interrupted attempt's node runs again: the process groups that attempt recorded on this machine, if any
    /// still run (their <c>ratchet</c> was killed without stopping them), are stopped first, so that two copies of the
    /// node never run at once. Another machine's groups cannot be seen from here; the lease, which lapsed or was
    /// released before this runner could claim the workflow, is what guarded those.
    /// </summary>
    internal async Task StopLeftoverProcessesAsync(WorkflowRecord workflow, StepPlan plan)
    {
        if (workflow.CurrentNode is not { } node)
        {
            return;
        }

        var events = await _engine.Store.GetEventsAsync(workflow.Id, cancellationToken: CancellationToken.None);
        foreach (var started in events)
        {
            if (started.Type != AuditEventTypes.ProcessStarted || started.Node != node || started.Attempt != workflow.Attempt ||
                ProcessGroup.FromPayload(started.Payload) is not { } group)
            {
                continue;
            }

            if (!group.IsLocal)
            {
                Log.RemoteProcessGroup(_engine.Logger, workflow.Id, node, workflow.Attempt, group.ToString());
                continue;
            }

            // Real processes take real time to exit, whatever clock the engine runs on.
            if (await group.StopAsync(_options.StopGracePeriod, TimeProvider.System))
            {
                Log.LeftoverProcessStopped(_engine.Logger, workflow.Id, node, workflow.Attempt, group.ToString());
                plan.Changes.AppendEvent(new AuditEvent
                {
                    WorkflowId = workflow.Id, Type = AuditEventTypes.ProcessStopped, Node = node, Attempt = workflow.Attempt,
                    At = _engine.Clock.GetStoreNow(), Payload = group.ToPayload(),
                });
            }
        }
    }

    /// <summary>No definition fits the workflow: fail it with a message that says which is missing, rather than leave it stuck.</summary>
    private async Task FailUnrunnableAsync(WorkflowRecord workflow, WorkflowError? why = null)
    {
        var now = _engine.Clock.GetStoreNow();
        var error = why ?? new WorkflowError("definition-missing",
            $"Workflow '{workflow.Id}' started with version {workflow.DefinitionVersion} of '{workflow.Type}'; this worker has neither that version nor one with its node '{workflow.CurrentNode}'. Register the old definition and retry it.");
        var plan = new StepPlan(Steps.ToStatus(workflow, WorkflowStatus.Failed, now) with { Error = error })
        {
            Lease = LeaseAction.Release,
            ParentToWake = workflow.ParentId,
        };
        await _engine.CommitAsync(plan, workflow, error.Message, CancellationToken.None);
    }

    private static Activity? StartWorkflowActivity(WorkflowRecord workflow)
    {
        if (!RatchetTelemetry.ActivitySource.HasListeners())
        {
            return null;
        }

        // A resumed workflow joins the trace it was started in.
        ActivityContext.TryParse(workflow.TraceParent, null, out var parent);
        var activity = RatchetTelemetry.ActivitySource.StartActivity($"workflow {workflow.Type}", ActivityKind.Internal, parent);
        activity?.SetTag(RatchetTelemetry.Tags.WorkflowId, workflow.Id);
        activity?.SetTag(RatchetTelemetry.Tags.WorkflowType, workflow.Type);
        return activity;
    }
}

/// <summary>A sub-workflow ended without completing; raised to its parent node so that the node's retry policy applies.</summary>
public sealed class ChildWorkflowFailedException(string childId, string message) : RatchetException(message)
{
    /// <summary>The child's id.</summary>
    public string ChildId { get; } = childId;

    /// <inheritdoc />
    public override string ErrorCode => "child-failed";
}
