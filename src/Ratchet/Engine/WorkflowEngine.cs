using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ratchet.Queues;
using Ratchet.Serialization;
using Ratchet.Storage;
using Ratchet.Triggers;

namespace Ratchet.Engine;

/// <summary>How to start a workflow.</summary>
public sealed record StartOptions
{
    /// <summary>An id of the caller's; starting an id that exists returns the existing workflow (idempotent start).</summary>
    public string? Id { get; init; }

    /// <summary>Free-form metadata stored with the workflow.</summary>
    public JsonElement? Metadata { get; init; }
}

/// <summary>
/// The engine: starts, cancels, retries, approves, rejects and signals workflows, and waits for them. Immutable and
/// thread-safe. Workflows run in <see cref="WorkflowRunner"/>s (in this process, or in workers elsewhere sharing the
/// store); a workflow started while a runner of this engine runs is handed to it at once.
/// </summary>
public sealed partial class WorkflowEngine : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _changeSignals = new(StringComparer.Ordinal);
    private readonly List<WorkflowRunner> _runners = [];
    private readonly bool _ownsStore;
    private readonly TriggerFiring _triggerFiring;
    private readonly ConcurrentDictionary<string, byte> _seededQueues = new(StringComparer.Ordinal);

    internal WorkflowEngine(
        IRatchetStore store,
        WorkflowRegistry registry,
        RatchetOptions options,
        IServiceProvider services,
        TimeProvider clock,
        IWorkflowIdGenerator ids,
        ILoggerFactory? loggerFactory,
        IReadOnlyList<IWorkflowObserver> observers,
        bool ownsStore)
    {
        Store = store;
        Definitions = registry;
        Options = options;
        Services = services;
        Clock = clock;
        Ids = ids;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Logger = LoggerFactory.CreateLogger<WorkflowEngine>();
        Observers = new ObserverDispatcher(observers, Logger);
        Creator = new WorkflowCreator(store, clock, ids);
        _triggerFiring = new TriggerFiring(this);
        Triggers = new TriggerCatalog(store, clock, _triggerFiring.Invalidate);
        _ownsStore = ownsStore;
    }

    /// <summary>The store all state lives in.</summary>
    public IRatchetStore Store { get; }

    /// <summary>The definitions this engine knows.</summary>
    public WorkflowRegistry Definitions { get; }

    /// <summary>The engine's settings (a copy; changing it changes nothing).</summary>
    public RatchetOptions Options { get; }

    /// <summary>The services nodes are resolved from.</summary>
    public IServiceProvider Services { get; }

    /// <summary>The engine's clock.</summary>
    public TimeProvider Clock { get; }

    /// <summary>The store's triggers (start a workflow when another reaches a status); changes here are seen by this engine at once.</summary>
    public TriggerCatalog Triggers { get; }

    internal IWorkflowIdGenerator Ids { get; }

    internal ILoggerFactory LoggerFactory { get; }

    internal ILogger Logger { get; }

    internal ObserverDispatcher Observers { get; }

    internal WorkflowCreator Creator { get; }

    /// <summary>A runner for this engine, not yet started: it runs any due workflow of the engine's types.</summary>
    public WorkflowRunner CreateRunner() => new(this, focus: null);

    /// <summary>
    /// A runner that runs only <paramref name="workflowId"/> and the sub-workflows it starts (a command following one
    /// workflow, such as <c>ratchet run</c>): other due work in the store is left to other workers.
    /// </summary>
    public WorkflowRunner CreateRunner(string workflowId)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return new(this, focus: workflowId);
    }

    /// <summary>
    /// Creates a workflow of <paramref name="type"/> and makes it runnable: at once in a runner of this engine if one
    /// runs, else by whichever worker claims it. Idempotent by <see cref="StartOptions.Id"/>.
    /// </summary>
    /// <exception cref="UnknownWorkflowTypeException">No definition is registered for <paramref name="type"/>.</exception>
    public async Task<WorkflowRecord> StartAsync(string type, object? input = null, StartOptions? options = null, CancellationToken cancellationToken = default)
    {
        var definition = Definitions.Latest(type);
        options ??= new StartOptions();
        var runner = FirstRunner();
        string? traceParent;
        using (var activity = RatchetTelemetry.ActivitySource.HasListeners() ? RatchetTelemetry.ActivitySource.StartActivity($"start {type}", ActivityKind.Producer) : null)
        {
            traceParent = activity?.Id ?? Activity.Current?.Id;
        }

        var request = new NewWorkflow
        {
            Type = type,
            Id = options.Id,
            Input = input is null ? null : NodeResult.ToJson(input),
            Metadata = options.Metadata,
            DefinitionVersion = definition.Version,
            StartNode = definition.StartNode,
            TraceParent = traceParent,
        };
        var observe = Observers.HasObservers;
        if (definition.Queue is { } queue)
        {
            // A queue's workflow takes a slot only through the store's claim, which counts the queue's slots: it is
            // not handed to the local runner, which is woken to claim it instead.
            request = definition.Place(request);
            runner = null;
            await EnsureQueueAsync(queue, cancellationToken);
        }

        var result = await Creator.CreateAsync(request, (pending, changes) =>
        {
            if (runner is null)
            {
                return pending;
            }

            // A local runner takes it now: it is created Running and leased, so a crash before its first commit is
            // seen, by whoever takes it over, as an interrupted first node.
            var now = pending.CreatedAt;
            var running = pending.TransitionTo(WorkflowStatus.Running, now) with
            {
                Attempt = 1,
                LeaseOwner = runner.Owner,
                LeaseExpiresAt = now + Options.LeaseDuration,
            };
            changes.AppendEvent(new AuditEvent
            {
                WorkflowId = running.Id, Type = AuditEventTypes.StatusChanged, At = now,
                Payload = Steps.Payload(("from", nameof(WorkflowStatus.Pending)), ("to", nameof(WorkflowStatus.Running))),
            });
            changes.AppendEvent(new AuditEvent { WorkflowId = running.Id, Type = AuditEventTypes.NodeStarted, Node = definition.StartNode, Attempt = 1, At = now });
            return running;
        }, cancellationToken);

        var workflow = result.Workflow;
        if (result.Created)
        {
            RatchetTelemetry.WorkflowsStarted.Add(1, new KeyValuePair<string, object?>(RatchetTelemetry.Tags.WorkflowType, type));
            var accepted = runner is not null && workflow.LeaseOwner == runner.Owner;
            if (observe)
            {
                Observers.Publish(Steps.Event(WorkflowEventKind.Started, workflow, workflow.CreatedAt));
                if (accepted)
                {
                    // Created already Running at its first node: that node starts now.
                    Observers.Publish(Steps.Event(WorkflowEventKind.NodeStarted, workflow, workflow.CreatedAt) with
                    {
                        Node = workflow.CurrentNode, Attempt = workflow.Attempt, Status = WorkflowStatus.Running,
                    });
                }
            }

            if (accepted)
            {
                runner!.Accept(workflow);
            }
            else if (workflow.Queue is not null)
            {
                Nudge();
            }
        }

        return workflow;
    }

    /// <summary>Stores a definition's queue limits once per engine, when the store has no such queue yet (a set queue keeps its own).</summary>
    internal async Task EnsureQueueAsync(WorkflowQueue queue, CancellationToken cancellationToken)
    {
        if (queue.Limits is not { } limits || !_seededQueues.TryAdd(queue.Name, 0))
        {
            return;
        }

        try
        {
            await Store.CommitAsync(new ChangeSet().SaveValue(QueueCatalog.Namespace, queue.Name,
                QueueCatalog.ToJson(limits with { UpdatedAt = Clock.GetStoreNow() }), expectedVersion: 0), cancellationToken);
        }
        catch (KeyValueConcurrencyException)
        {
            // Set already (by `ratchet queue set` or another engine): those limits stand.
        }
        catch
        {
            _seededQueues.TryRemove(queue.Name, out _);
            throw;
        }
    }

    /// <summary>
    /// Makes a workflow run now: a Running workflow left by a dead worker is claimed as soon as its lease lapses, a
    /// retry back-off is cut short, a workflow waiting for a child looks at it again.
    /// </summary>
    /// <exception cref="WorkflowNotFoundException">There is no such workflow.</exception>
    /// <exception cref="InvalidTransitionException">It is terminal or waits for a human or a signal.</exception>
    public async Task<WorkflowRecord> ResumeAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var workflow = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            if (workflow.IsTerminal)
            {
                throw new InvalidTransitionException(workflow.Id, workflow.Status, WorkflowStatus.Running,
                    workflow.Status == WorkflowStatus.Failed
                        ? $"Workflow '{workflow.Id}' has Failed; retry it to run it again."
                        : $"Workflow '{workflow.Id}' is {workflow.Status}; there is nothing to resume.");
            }

            if (workflow.Status == WorkflowStatus.Waiting && workflow.WaitReason is WaitReason.Approval or WaitReason.Signal)
            {
                throw new InvalidTransitionException(workflow.Id, workflow.Status, WorkflowStatus.Running,
                    $"Workflow '{workflow.Id}' waits for {(workflow.WaitReason == WaitReason.Approval ? "approval: approve or reject it" : $"the signal '{workflow.WaitDetail}': send it")}.");
            }

            var now = Clock.GetStoreNow();
            if (workflow.DueAt is { } due && due <= now)
            {
                Nudge();
                return workflow;
            }

            try
            {
                await Store.CommitAsync(new ChangeSet().UpdateWorkflow(workflow with { DueAt = now, UpdatedAt = now }), cancellationToken);
                Nudge();
                return workflow with { DueAt = now, UpdatedAt = now, Version = workflow.Version + 1 };
            }
            catch (WorkflowConcurrencyException) when (attempt < 5)
            {
                // It moved on meanwhile: look again.
            }
        }
    }

    /// <summary>
    /// Cancels a workflow and every active workflow below it (its sub-workflows, theirs, ...), all in one commit, so a
    /// crash never leaves a cancelled parent beside running children; a node running in this process is stopped.
    /// </summary>
    /// <exception cref="WorkflowNotFoundException">There is no such workflow.</exception>
    /// <exception cref="InvalidTransitionException">It has already ended.</exception>
    public async Task<WorkflowRecord> CancelAsync(string workflowId, string? reason = null, CancellationToken cancellationToken = default)
    {
        reason ??= "cancelled on request";
        for (var attempt = 1; ; attempt++)
        {
            var workflow = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            var now = Clock.GetStoreNow();
            var plan = CancelPlan(workflow, reason, now);
            plan.ParentToWake = workflow.ParentId;

            // Every active descendant is cancelled in the same change set, each at the version it was read at: a
            // descendant that moves meanwhile (or starts a child of its own, which moves it) refuses the whole set,
            // and we look again.
            var descendants = await ActiveDescendantsAsync(workflowId, cancellationToken);
            var cascaded = new List<StepPlan>(descendants.Count);
            foreach (var descendant in descendants)
            {
                var childReason = $"parent {descendant.ParentId} was cancelled";
                var childPlan = CancelPlan(descendant, childReason, now);
                Steps.AddStatusEvent(childPlan, descendant, childReason);
                childPlan.Triggered = await _triggerFiring.AddFiringsAsync(childPlan, descendant, cancellationToken);
                childPlan.Changes.UpdateWorkflow(childPlan.Next, childPlan.Lease);
                Merge(plan.Changes, childPlan.Changes);
                plan.Events.AddRange(childPlan.Events);
                cascaded.Add(childPlan);
            }

            try
            {
                var cancelled = await CommitAsync(plan, workflow, reason, cancellationToken);
                Log.WorkflowCancelled(Logger, workflowId, reason);
                foreach (var child in cascaded)
                {
                    Log.WorkflowCancelled(Logger, child.Next.Id, $"parent {child.Next.ParentId} was cancelled");
                    SignalChange(child.Next.Id);
                    RecordEnd(child.Committed);
                    if (child.Triggered is { Count: > 0 } started)
                    {
                        PublishStarted(started);
                    }
                }

                foreach (var runner in Runners())
                {
                    runner.StopLocal(workflowId);
                    foreach (var child in cascaded)
                    {
                        runner.StopLocal(child.Next.Id);
                    }
                }

                return cancelled;
            }
            catch (WorkflowConcurrencyException) when (attempt < 10)
            {
                // A step of the workflow or of a descendant committed meanwhile: cancel what it left.
            }
        }
    }

    /// <summary>The cancel of one workflow: Cancelled, its running node's end in the journal, its lease released unless a live process elsewhere still has to stop the node.</summary>
    private StepPlan CancelPlan(WorkflowRecord workflow, string reason, DateTimeOffset now)
    {
        // A node running in another live process keeps its lease until that process has stopped it (it sees the
        // cancel within about a second and releases the lease then): the canceller can wait for that, and no one
        // else claims the workflow meanwhile.
        var stopsElsewhere = workflow is { Status: WorkflowStatus.Running, LeaseOwner: { } owner } && workflow.LeaseExpiresAt > now &&
            WorkerIdentity.Liveness(owner) != OwnerLiveness.Dead;
        var plan = new StepPlan(workflow.TransitionTo(WorkflowStatus.Cancelled, now) with
        {
            Error = new WorkflowError("cancelled", reason),
        })
        {
            Lease = stopsElsewhere ? LeaseAction.Keep : LeaseAction.Release,
        };
        if (workflow is { Status: WorkflowStatus.Running, CurrentNode: { } running, Attempt: > 0 })
        {
            // The node that was running ends here: the journal says so.
            plan.Changes.AppendStep(new StepRecord
            {
                WorkflowId = workflow.Id, Node = running, Attempt = workflow.Attempt, Outcome = StepOutcome.Cancelled,
                Error = new WorkflowError("cancelled", reason) { Node = running }, StartedAt = workflow.UpdatedAt, FinishedAt = now,
            });
        }

        if (Observers.HasObservers)
        {
            plan.Events.Add(Steps.Event(WorkflowEventKind.Cancelled, plan.Next, now) with { Message = reason, Node = workflow.CurrentNode });
        }

        return plan;
    }

    /// <summary>The active workflows below <paramref name="rootId"/>, parents before their children.</summary>
    private async Task<IReadOnlyList<WorkflowRecord>> ActiveDescendantsAsync(string rootId, CancellationToken cancellationToken)
    {
        var found = new List<WorkflowRecord>();
        var parents = new Queue<string>([rootId]);
        var seen = new HashSet<string>(StringComparer.Ordinal) { rootId };
        while (parents.TryDequeue(out var parentId))
        {
            var children = await Store.ListWorkflowsAsync(WorkflowQuery.Active with { ParentId = parentId, Limit = WorkflowQuery.MaxLimit }, cancellationToken);
            foreach (var child in children.Items.Where(c => seen.Add(c.Id)))
            {
                found.Add(child);
                parents.Enqueue(child.Id);
            }
        }

        return found;
    }

    /// <summary>Adds <paramref name="from"/>'s writes and appends to <paramref name="into"/>, to commit them together.</summary>
    private static void Merge(ChangeSet into, ChangeSet from)
    {
        foreach (var write in from.Workflows)
        {
            if (write.Kind == WorkflowWriteKind.Create)
            {
                into.CreateWorkflow(write.Record);
            }
            else
            {
                into.UpdateWorkflow(write.Record, write.Lease);
            }
        }

        foreach (var step in from.Steps)
        {
            into.AppendStep(step);
        }

        foreach (var auditEvent in from.Events)
        {
            into.AppendEvent(auditEvent);
        }

        foreach (var command in from.Commands)
        {
            into.RecordCommand(command);
        }
    }

    /// <summary>
    /// Runs a Failed or Cancelled workflow again from the node that failed (or was running when it was cancelled), or
    /// from <paramref name="fromNode"/>; audited. See <see cref="RetryAsync(string, RetryOptions, CancellationToken)"/>.
    /// </summary>
    /// <exception cref="InvalidTransitionException">It is neither Failed nor Cancelled.</exception>
    /// <exception cref="UnknownNodeException">The definition it runs has no node <paramref name="fromNode"/>.</exception>
#pragma warning disable RS0027 // The shipped overload keeps its optional parameters so that its callers bind unchanged; the options overload takes a required token, so a call never has to choose between them.
    public Task<WorkflowRecord> RetryAsync(string workflowId, string? fromNode = null, CancellationToken cancellationToken = default) =>
        RetryAsync(workflowId, new RetryOptions { FromNode = fromNode }, cancellationToken);
#pragma warning restore RS0027

    /// <summary>
    /// Runs a Failed or Cancelled workflow again from the node that failed (or was running when it was cancelled), or
    /// from <see cref="RetryOptions.FromNode"/>, on its definition or on <see cref="RetryOptions.DefinitionVersion"/>
    /// (audited as <c>definition-changed</c> with both versions); audited as <c>retried</c>. The node's attempts go on
    /// from the highest it had (so no attempt number, nor idempotency key, names two runs), and it gets its retry
    /// policy's full number of attempts again; a new count of visits begins (<see cref="RatchetOptions.MaxVisits"/>).
    /// It waits as a retry due now (<see cref="WaitReason.Timer"/>) until a runner takes it. A sub-workflow node retried
    /// starts a new child: the one cancelled stays cancelled.
    /// </summary>
    /// <exception cref="InvalidTransitionException">It is neither Failed nor Cancelled.</exception>
    /// <exception cref="UnknownNodeException">The definition it goes on with has no node to start from.</exception>
    /// <remarks>The token has no default: the shipped overload with a node name keeps the optional parameters.</remarks>
    /// <exception cref="ArgumentException">No definition of <see cref="RetryOptions.DefinitionVersion"/> is registered.</exception>
    public async Task<WorkflowRecord> RetryAsync(string workflowId, RetryOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var fromNode = options.FromNode;
        var workflow = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
        // A workflow of a type only other workers know can be retried without a node to start from, as before.
        var definition = options.DefinitionVersion is not null
            ? DefinitionFor(workflow, options.DefinitionVersion)
            : ResolveDefinition(workflow) ?? (fromNode is not null || Definitions.Contains(workflow.Type) ? Definitions.Latest(workflow.Type) : null);
        if (fromNode is not null && !definition!.HasNode(fromNode))
        {
            throw new UnknownNodeException(definition.Name, definition.Version, fromNode, [.. definition.Nodes.Select(n => n.Name)]);
        }

        var now = Clock.GetStoreNow();
        var again = workflow.Retry(now, fromNode);
        var node = again.CurrentNode;
        var moves = options.DefinitionVersion is not null && definition!.Version != workflow.DefinitionVersion;
        if (moves)
        {
            if (node is null || !definition!.HasNode(node))
            {
                throw new UnknownNodeException(definition!.Name, definition.Version, node ?? "", [.. definition.Nodes.Select(n => n.Name)]);
            }

            again = again with { DefinitionVersion = definition.Version };
        }

        var steps = await Store.GetStepsAsync(workflowId, cancellationToken);
        var highest = steps.Where(s => s.Node == node).Select(s => s.Attempt)
            .Append(workflow.CurrentNode == node ? workflow.Attempt : 0).Max();
        if (node is not null && definition?.HasNode(node) != false && definition?[node] is not DelayNodeDefinition)
        {
            // A waiting retry starts its attempt as it is numbered. (A delay node waiting on its timer would be over:
            // it is left Running, to wait again.)
            again = again.TransitionTo(WorkflowStatus.Waiting, now, WaitReason.Timer) with { Attempt = highest + 1, DueAt = now };
        }

        var plan = new StepPlan(again) { Lease = LeaseAction.Release };
        if (moves)
        {
            plan.Changes.AppendEvent(DefinitionChangedEvent(workflow.Id, node, workflow.DefinitionVersion, definition!.Version, now));
        }

        plan.Changes.AppendEvent(new AuditEvent
        {
            WorkflowId = workflow.Id, Type = AuditEventTypes.Retried, Node = plan.Next.CurrentNode, Attempt = highest + 1, At = now,
            Payload = Steps.Payload(("previousError", workflow.Error?.Message), ("previousStatus", workflow.Status.ToString())),
        });
        var retried = await CommitAsync(plan, workflow, "retry", cancellationToken);
        Nudge();
        return retried;
    }

    /// <summary>
    /// Approves a workflow waiting for approval; it goes on to the approval node's next node. The approver's
    /// <paramref name="data"/> (the plan as they edited it, say) lands in the node's output as <c>data</c>, beside
    /// <c>approved</c>, <c>by</c> and <c>comment</c>, and in the <c>approved</c> audit event.
    /// </summary>
    /// <exception cref="InvalidTransitionException">It is not waiting for approval.</exception>
    public Task<WorkflowRecord> ApproveAsync(string workflowId, string by, string? comment = null, JsonElement? data = null, CancellationToken cancellationToken = default)
    {
        RatchetJson.EnsureDepth(data, "The approval's data");
        return DecideAsync(workflowId, by, comment, approved: true, data, cancellationToken);
    }

    /// <summary>Approves a workflow waiting for approval, without data.</summary>
    /// <remarks>Kept, without optional parameters, so that callers built against the first release still bind.</remarks>
    /// <exception cref="InvalidTransitionException">It is not waiting for approval.</exception>
    public Task<WorkflowRecord> ApproveAsync(string workflowId, string by, string? comment, CancellationToken cancellationToken) =>
        DecideAsync(workflowId, by, comment, approved: true, data: null, cancellationToken);

    /// <summary>
    /// Rejects a workflow waiting for approval: it follows the node's <c>rejected</c> transition if it has one, else it
    /// fails with the comment as its error.
    /// </summary>
    /// <exception cref="InvalidTransitionException">It is not waiting for approval.</exception>
    public Task<WorkflowRecord> RejectAsync(string workflowId, string by, string? comment = null, CancellationToken cancellationToken = default) =>
        DecideAsync(workflowId, by, comment, approved: false, data: null, cancellationToken);

    /// <summary>
    /// Delivers the signal <paramref name="signal"/> to a workflow waiting for it; the payload becomes the node's
    /// output. Refused when the workflow is not waiting for it: <see cref="SendSignalAsync"/> buffers it instead.
    /// </summary>
    /// <exception cref="InvalidTransitionException">The workflow is not waiting for that signal.</exception>
    public async Task<WorkflowRecord> SignalAsync(string workflowId, string signal, object? payload = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(signal);
        var workflow = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
        if (!WaitsFor(workflow, signal))
        {
            throw new InvalidTransitionException(workflow.Id, workflow.Status, WorkflowStatus.Running,
                $"Workflow '{workflow.Id}' is not waiting for the signal '{signal}' (it is {Describe(workflow)}). Send it when the workflow waits for it.");
        }

        return await DeliverAsync(workflow, signal, SignalPayload(signal, payload), cancellationToken);
    }

    /// <summary>
    /// Sends the signal <paramref name="signal"/> to a workflow: delivered at once when the workflow waits for it (the
    /// payload becomes the node's output), else buffered in the store and delivered, in the order sent and exactly once,
    /// when the workflow reaches a wait for that name. Audited either way.
    /// </summary>
    /// <exception cref="WorkflowNotFoundException">There is no such workflow.</exception>
    /// <exception cref="InvalidTransitionException">The workflow has ended: no wait can take the signal any more.</exception>
    public async Task<SignalDelivery> SendSignalAsync(string workflowId, string signal, object? payload = null, CancellationToken cancellationToken = default)
    {
        SignalNames.Validate(signal, nameof(signal));
        var output = SignalPayload(signal, payload);
        for (var attempt = 1; ; attempt++)
        {
            var workflow = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            if (workflow.IsTerminal)
            {
                throw new InvalidTransitionException(workflow.Id, workflow.Status, WorkflowStatus.Running,
                    $"Workflow '{workflow.Id}' has ended ({workflow.Status}); no wait can take the signal '{signal}' any more.");
            }

            try
            {
                if (WaitsFor(workflow, signal))
                {
                    return new SignalDelivery { Workflow = await DeliverAsync(workflow, signal, output, cancellationToken) };
                }

                // Buffered on the condition that the workflow has not moved since we looked: a workflow that parks at a
                // wait for this signal moves its version, so either this send sees the park (and delivers, above) or
                // the park sees this signal (the store refuses a park beside a pending signal of its name).
                var now = Clock.GetStoreNow();
                await Store.CommitAsync(new ChangeSet()
                    .ExpectWorkflowVersion(workflow.Id, workflow.Version)
                    .SendSignal(new SignalRecord { WorkflowId = workflow.Id, Name = signal, Payload = output, SentAt = now })
                    .AppendEvent(new AuditEvent
                    {
                        WorkflowId = workflow.Id, Type = AuditEventTypes.SignalBuffered, Node = workflow.CurrentNode, At = now,
                        Payload = Steps.Payload(("signal", signal), ("while", Describe(workflow))),
                    }), cancellationToken);
                Log.SignalBuffered(Logger, workflow.Id, signal);
                return new SignalDelivery { Workflow = workflow, Buffered = true };
            }
            catch (WorkflowConcurrencyException ex) when (ex.WorkflowId == workflowId && attempt < 50)
            {
                // It moved on meanwhile (a step, a claim, the park itself): look again.
            }
        }
    }

    private static bool WaitsFor(WorkflowRecord workflow, string signal) =>
        workflow is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Signal } && workflow.WaitDetail == signal;

    private static JsonElement? SignalPayload(string signal, object? payload)
    {
        var output = payload is null ? (JsonElement?)null : NodeResult.ToJson(payload);
        RatchetJson.EnsureDepth(output, $"The payload of signal '{signal}'");
        return output;
    }

    /// <summary>Completes the wait of a workflow that waits for <paramref name="signal"/>; the workflow goes on (due now) on any worker.</summary>
    private async Task<WorkflowRecord> DeliverAsync(WorkflowRecord workflow, string signal, JsonElement? output, CancellationToken cancellationToken)
    {
        var node = RequireDefinition(workflow)[workflow.CurrentNode!];
        var now = Clock.GetStoreNow();
        var plan = Steps.CompleteNode(workflow, node, NodeResult.SuccessOutcome, output, null, workflow.UpdatedAt, now, continueHere: false, Observers.HasObservers);
        plan.Changes.AppendEvent(new AuditEvent { WorkflowId = workflow.Id, Type = AuditEventTypes.Signal, Node = node.Name, At = now, Payload = Steps.Payload(("signal", signal)) });
        var signalled = await CommitAsync(plan, workflow, $"signal {signal}", cancellationToken);
        Nudge();
        return signalled;
    }

    /// <summary>Waits until the workflow has ended (Completed, Failed or Cancelled) and returns it.</summary>
    public Task<WorkflowRecord> WaitForCompletionAsync(string workflowId, CancellationToken cancellationToken = default) =>
        WaitForAsync(workflowId, static w => w.IsTerminal, cancellationToken);

    /// <summary>
    /// Waits until <paramref name="condition"/> holds for the stored workflow, e.g. until it ended or waits for a
    /// human. Woken at once by changes made in this process, and by polling for changes made elsewhere.
    /// </summary>
    public async Task<WorkflowRecord> WaitForAsync(string workflowId, Func<WorkflowRecord, bool> condition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        while (true)
        {
            var changed = ChangeSignal(workflowId);
            var workflow = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            if (condition(workflow))
            {
                return workflow;
            }

            await Task.WhenAny(changed, Task.Delay(Options.PollInterval, Clock, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Closes the engine: delivers queued observer events, and closes the store if the engine opened it.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var runner in Runners())
        {
            await runner.DisposeAsync();
        }

        await Observers.DisposeAsync();
        if (_ownsStore)
        {
            await Store.DisposeAsync();
        }
    }

    // ---- shared with runners ---------------------------------------------------------------------------------

    /// <summary>
    /// The definition a workflow runs: the exact version it started with, else the current one if it still has the
    /// workflow's node (logged). Null when neither fits.
    /// </summary>
    internal WorkflowDefinition? ResolveDefinition(WorkflowRecord workflow)
    {
        if (Definitions.Find(workflow.Type, workflow.DefinitionVersion) is { } exact)
        {
            return exact;
        }

        if (!Definitions.Contains(workflow.Type))
        {
            return null;
        }

        var latest = Definitions.Latest(workflow.Type);
        if (workflow.CurrentNode is null || latest.HasNode(workflow.CurrentNode))
        {
            Log.DefinitionChanged(Logger, workflow.Id, workflow.Type, workflow.DefinitionVersion, latest.Version);
            return latest;
        }

        return null;
    }

    internal WorkflowDefinition RequireDefinition(WorkflowRecord workflow) =>
        ResolveDefinition(workflow) ?? throw new UnknownWorkflowTypeException(workflow.Type, Definitions.Types);

    /// <summary>
    /// Commits a plan: the workflow write, what the plan appended, a status-changed event, and the parent's wake-up
    /// when a child ends. Then tells observers and waiters. Returns the record as stored.
    /// </summary>
    internal async Task<WorkflowRecord> CommitAsync(StepPlan plan, WorkflowRecord before, string? reason, CancellationToken cancellationToken)
    {
        // Completing the plan's change set happens once: a commit that failed is sent again exactly as it was.
        if (plan.Triggered is null)
        {
            Steps.AddStatusEvent(plan, before, reason);
            plan.Triggered = await _triggerFiring.AddFiringsAsync(plan, before, cancellationToken);
            if (plan.ParentToWake is null || !plan.Next.IsTerminal)
            {
                plan.Changes.UpdateWorkflow(plan.Next, plan.Lease);
            }
        }

        var triggered = plan.Triggered;
        if (plan.ParentToWake is null || !plan.Next.IsTerminal)
        {
            await Store.CommitAsync(plan.Changes, cancellationToken);
        }
        else
        {
            await CommitWakingParentAsync(plan, plan.ParentToWake, cancellationToken);
        }

        var committed = plan.Committed;
        Observers.Publish(plan.Events);
        if (triggered.Count > 0)
        {
            PublishStarted(triggered);
        }

        if (committed.IsTerminal || committed.Status == WorkflowStatus.Waiting || PhaseWorkflows.IsBetweenPhases(committed))
        {
            SignalChange(committed.Id);
            if (committed.IsTerminal)
            {
                RecordEnd(committed);
            }
        }

        return committed;
    }

    /// <summary>Counts and announces the workflows a commit's triggers started, and wakes the runners for them.</summary>
    private void PublishStarted(IReadOnlyList<WorkflowRecord> triggered)
    {
        foreach (var started in triggered)
        {
            RatchetTelemetry.WorkflowsStarted.Add(1, new KeyValuePair<string, object?>(RatchetTelemetry.Tags.WorkflowType, started.Type));
            if (Observers.HasObservers)
            {
                Observers.Publish(Steps.Event(WorkflowEventKind.Started, started with { Version = 1 }, started.CreatedAt));
            }
        }

        Nudge();
    }

    /// <summary>
    /// A child's last commit also makes its parent due, atomically, so the parent can never miss its child's end.
    /// The parent may change meanwhile (another child, a cancel): read it again and retry.
    /// </summary>
    private async Task CommitWakingParentAsync(StepPlan plan, string parentId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var changes = new ChangeSet().UpdateWorkflow(plan.Next, plan.Lease);
            foreach (var write in plan.Changes.Workflows.Where(w => w.Kind == WorkflowWriteKind.Create || w.Record.Id != plan.Next.Id))
            {
                // Workflows the plan creates (trigger firings) and the others it ends with this one (a cancel's descendants).
                if (write.Kind == WorkflowWriteKind.Create)
                {
                    changes.CreateWorkflow(write.Record);
                }
                else
                {
                    changes.UpdateWorkflow(write.Record, write.Lease);
                }
            }

            foreach (var step in plan.Changes.Steps)
            {
                changes.AppendStep(step);
            }

            foreach (var auditEvent in plan.Changes.Events)
            {
                changes.AppendEvent(auditEvent);
            }

            foreach (var command in plan.Changes.Commands)
            {
                changes.RecordCommand(command);
            }

            var parent = await Store.GetWorkflowAsync(parentId, cancellationToken);
            var now = plan.Next.UpdatedAt;
            if (parent is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Child } && parent.WaitDetail == plan.Next.Id)
            {
                changes.UpdateWorkflow(parent with { DueAt = now, UpdatedAt = now });
            }

            try
            {
                await Store.CommitAsync(changes, cancellationToken);
                Nudge();
                return;
            }
            catch (WorkflowConcurrencyException ex) when (ex.WorkflowId == parentId && attempt < 20)
            {
                // The parent changed between our read and our commit: read it again.
            }
        }
    }

    internal void RecordEnd(WorkflowRecord workflow)
    {
        var type = new KeyValuePair<string, object?>(RatchetTelemetry.Tags.WorkflowType, workflow.Type);
        if (workflow.Status == WorkflowStatus.Completed)
        {
            RatchetTelemetry.WorkflowsCompleted.Add(1, type);
        }
        else if (workflow.Status == WorkflowStatus.Failed)
        {
            RatchetTelemetry.WorkflowsFailed.Add(1, type);
        }

        if (RatchetTelemetry.WorkflowDuration.Enabled && workflow.CompletedAt is { } completed)
        {
            RatchetTelemetry.WorkflowDuration.Record((completed - workflow.CreatedAt).TotalSeconds, type);
        }
    }

    internal Task ChangeSignal(string workflowId) =>
        _changeSignals.GetOrAdd(workflowId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    internal void SignalChange(string workflowId)
    {
        if (!_changeSignals.IsEmpty && _changeSignals.TryRemove(workflowId, out var signal))
        {
            signal.TrySetResult();
        }
    }

    internal void Attach(WorkflowRunner runner)
    {
        lock (_runners)
        {
            _runners.Add(runner);
        }
    }

    internal void Detach(WorkflowRunner runner)
    {
        lock (_runners)
        {
            _runners.Remove(runner);
        }
    }

    /// <summary>Tells this process's runners that work became due, so they look now instead of at their next poll.</summary>
    internal void Nudge()
    {
        foreach (var runner in Runners())
        {
            runner.Nudge();
        }
    }

    private WorkflowRunner? FirstRunner()
    {
        lock (_runners)
        {
            // A focused runner takes only its own family; a new workflow goes to a runner that takes anything.
            return _runners.FirstOrDefault(r => r.IsAccepting && !r.IsFocused);
        }
    }

    private WorkflowRunner[] Runners()
    {
        lock (_runners)
        {
            return [.. _runners];
        }
    }

    private async Task<WorkflowRecord> DecideAsync(string workflowId, string by, string? comment, bool approved, JsonElement? data, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(by);
        var workflow = await Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
        if (workflow.Status != WorkflowStatus.Waiting || workflow.WaitReason != WaitReason.Approval)
        {
            throw new InvalidTransitionException(workflow.Id, workflow.Status, approved ? WorkflowStatus.Running : WorkflowStatus.Failed,
                $"Workflow '{workflow.Id}' is not waiting for approval (it is {Describe(workflow)}); only a workflow waiting for approval can be {(approved ? "approved" : "rejected")}.");
        }

        var node = RequireDefinition(workflow)[workflow.CurrentNode!];
        var now = Clock.GetStoreNow();
        var decision = new Dictionary<string, object?> { ["approved"] = approved, ["by"] = by, ["comment"] = comment };
        var payload = Steps.Payload(("by", by), ("comment", comment));
        if (data is { } given)
        {
            decision["data"] = given;
            payload = NodeResult.ToJson(new Dictionary<string, object?> { ["by"] = by, ["comment"] = comment, ["data"] = given }
                .Where(p => p.Value is not null).ToDictionary(StringComparer.Ordinal));
        }

        var output = NodeResult.ToJson(decision);
        var audit = new AuditEvent
        {
            WorkflowId = workflow.Id,
            Type = approved ? AuditEventTypes.Approved : AuditEventTypes.Rejected,
            Node = node.Name,
            At = now,
            Payload = payload,
        };

        StepPlan plan;
        if (approved || node.Transitions.ContainsKey(WorkflowDefinition.Rejected))
        {
            plan = Steps.CompleteNode(workflow, node, approved ? WorkflowDefinition.Approved : WorkflowDefinition.Rejected, output, null,
                workflow.UpdatedAt, now, continueHere: false, Observers.HasObservers);
        }
        else
        {
            var error = new WorkflowError("rejected", comment is null ? $"Rejected by {by}." : $"Rejected by {by}: {comment}");
            plan = Steps.FailNode(workflow, RequireDefinition(workflow), node, error, exception: null, workflow.UpdatedAt, now,
                continueHere: false, Observers.HasObservers, Random.Shared, deadline: null);
        }

        plan.Changes.AppendEvent(audit);
        var decided = await CommitAsync(plan, workflow, approved ? $"approved by {by}" : $"rejected by {by}", cancellationToken);
        Nudge();
        return decided;
    }

    private static string Describe(WorkflowRecord workflow) =>
        workflow.Status == WorkflowStatus.Waiting ? $"waiting for {workflow.WaitReason}{(workflow.WaitDetail is null ? "" : $" '{workflow.WaitDetail}'")}" : workflow.Status.ToString();
}
