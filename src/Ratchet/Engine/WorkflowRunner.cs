using System.Collections.Concurrent;
using System.Threading.Channels;
using Ratchet.Storage;

namespace Ratchet.Engine;

/// <summary>What a runner found and did when it started.</summary>
/// <param name="ResumedWorkflows">
/// Of the workflows claimed in the first look, those left Running by a dead worker: their interrupted node runs again.
/// (Workflows whose dead owner's lease had not lapsed yet are taken over later, each with a <c>recovered</c> audit event.)
/// </param>
/// <param name="ClaimedWorkflows">Due workflows claimed in the first look at the store.</param>
/// <param name="OrphanedWorkspaces">Active workspaces marked orphaned (their workflow ended or nobody holds it).</param>
public sealed record RecoveryReport(int ResumedWorkflows, int ClaimedWorkflows, int OrphanedWorkspaces);

/// <summary>
/// Runs workflows: up to <see cref="RatchetOptions.MaxConcurrency"/> at once, each from node to node without delay
/// (every result committed before the next node starts). Takes due work from the store with leases, so several
/// runners in several processes share one store and a dead runner's workflows are taken over. Create with
/// <see cref="WorkflowEngine.CreateRunner()"/>; for hosts, the hosted service does it.
/// </summary>
public sealed partial class WorkflowRunner : IAsyncDisposable
{
    private readonly WorkflowEngine _engine;
    private readonly RatchetOptions _options;
    private readonly Channel<WorkItem> _ready = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = false });
    private readonly ConcurrentDictionary<string, Execution> _inflight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, WorkflowRecord> _superseded = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, DateTimeOffset> _timers = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<RecoveryReport> _recovery = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly CancellationTokenSource _leasesDone = new();
    private readonly TaskCompletionSource<Exception> _storeFailure = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _faulted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _unreleased = new(StringComparer.Ordinal);
    private static readonly TimeSpan DeadOwnerScanInterval = TimeSpan.FromSeconds(5);
    private DateTimeOffset _nextOwnerScan;
    private int _pollFailures;
    private int _inTrouble;
    private Exception? _lastStoreError;
    private bool _untilIdle;
    private Task[] _slots = [];
    private Task _poller = Task.CompletedTask;
    private Task _renewer = Task.CompletedTask;
    private Task _watcher = Task.CompletedTask;
    private long _leasesConfirmedUntilTicks;
    private IDisposable? _workSubscription;
    private int _queued;
    private int _state; // 0 new, 1 running, 2 stopping, 3 stopped
    private readonly HashSet<string>? _focus;
    private bool _focusExpanded;

    internal WorkflowRunner(WorkflowEngine engine, string? focus)
    {
        _engine = engine;
        _options = engine.Options;
        _focus = focus is null ? null : new HashSet<string>(StringComparer.Ordinal) { focus };
        Owner = _options.WorkerId ?? WorkerIdentity.NewOwnerId();
    }

    /// <summary>This runner's identity in leases.</summary>
    public string Owner { get; }

    /// <summary>What the runner recovered when it started; completes after its first look at the store.</summary>
    public Task<RecoveryReport> Recovery => _recovery.Task;

    /// <summary>
    /// Completes with the first store error that stopped a workflow here (its result could not be committed through the
    /// commit's retries, or was refused for good), or, for <see cref="RunUntilIdleAsync"/>, with the error of a store
    /// that stayed unreachable. The workflow is left resumable as last committed. A command that follows a workflow
    /// (<c>ratchet run</c>) ends with this error instead of running the node again and again.
    /// </summary>
    public Task<Exception> StoreFailure => _storeFailure.Task;

    /// <summary>How many workflows run in this runner right now.</summary>
    public int RunningCount => _inflight.Count;

    internal bool IsAccepting => Volatile.Read(ref _state) == 1;

    /// <summary>Whether the runner runs only one workflow and its sub-workflows.</summary>
    internal bool IsFocused => _focus is not null;

    /// <summary>A focused runner also runs the sub-workflows its workflows start.</summary>
    internal void AddToFocus(string parentId, string childId)
    {
        if (_focus is null)
        {
            return;
        }

        lock (_focus)
        {
            if (_focus.Contains(parentId))
            {
                _focus.Add(childId);
            }
        }
    }

    /// <summary>Starts running: recovery first (orphaned workspaces, interrupted workflows), then due work as it comes.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException($"Runner {Owner} was already started; create a new runner.");
        }

        var orphaned = await MarkOrphanedWorkspacesAsync(cancellationToken);
        ConfirmLeases(_engine.Clock.GetUtcNow());
        _engine.Attach(this);
        _workSubscription = (_engine.Store as IWorkNotifier)?.SubscribeToWork(Nudge);
        _slots = Enumerable.Range(0, _options.MaxConcurrency).Select(_ => Task.Run(RunSlotAsync)).ToArray();
        _renewer = Task.Run(RenewLeasesAsync);
        _watcher = Task.Run(WatchOwnershipAsync);
        _poller = Task.Run(() => PollAsync(orphaned));
        Log.RunnerStarted(_engine.Logger, Owner, _options.MaxConcurrency);
    }

    /// <summary>
    /// Stops taking work and lets running nodes finish until <paramref name="cancellationToken"/> fires; then stops
    /// them. Leases are released, so that the unfinished workflows can be resumed (their node runs again) at once.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
        {
            return;
        }

        _engine.Detach(this);
        _workSubscription?.Dispose();
        await _stopping.CancelAsync();
        _ready.Writer.TryComplete();
        var slots = Task.WhenAll(_slots);
        try
        {
            await slots.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await _abort.CancelAsync();
            await slots;
        }

        await _poller;
        var released = 0;
        while (_ready.Reader.TryRead(out var item))
        {
            if (await TryReleaseAsync(item.Workflow.Id))
            {
                released++;
            }
        }

        await _leasesDone.CancelAsync();
        await _renewer;
        await _watcher;
        Volatile.Write(ref _state, 3);
        Log.RunnerStopped(_engine.Logger, Owner, released);
    }

    /// <summary>
    /// Starts (unless started), runs until nothing is left to do now — nothing running or queued, no due work in the
    /// store, no back-off this runner is waiting for — then stops. Workflows waiting for a human, a signal or a later
    /// timer set by someone else stay parked in the store.
    /// </summary>
    public async Task RunUntilIdleAsync(CancellationToken cancellationToken = default)
    {
        _untilIdle = true;
        if (Volatile.Read(ref _state) == 0)
        {
            await StartAsync(cancellationToken);
        }

        try
        {
            // An unreachable store is an outage, not idleness: say so rather than leave work behind silently.
            if (await Task.WhenAny(_idle.Task, _storeFailure.Task).WaitAsync(cancellationToken) == _storeFailure.Task)
            {
                var failure = await _storeFailure.Task;
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }
        finally
        {
            await StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Stops (without waiting for running nodes) and releases what the runner holds.</summary>
    public async ValueTask DisposeAsync()
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        await StopAsync(now.Token);
        _stopping.Dispose();
        _abort.Dispose();
        _leasesDone.Dispose();
    }

    /// <summary>Takes a workflow this runner holds and that is Running at its current node's current attempt.</summary>
    internal void Accept(WorkflowRecord workflow)
    {
        Interlocked.Increment(ref _queued);
        if (!_ready.Writer.TryWrite(new WorkItem(workflow, Fresh: true)))
        {
            Interlocked.Decrement(ref _queued);
            _ = TryReleaseAsync(workflow.Id);
        }
    }

    /// <summary>Look at the store now rather than at the next poll.</summary>
    internal void Nudge() => Volatile.Read(ref _wake).TrySetResult();

    /// <summary>The wake-up to wait for next: a fresh one if the last has fired (taken before looking, so none is missed).</summary>
    private Task ArmWake()
    {
        var current = Volatile.Read(ref _wake);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }

        return Volatile.Read(ref _wake).Task;
    }

    /// <summary>Stops the node running for <paramref name="workflowId"/> here, if any (it was cancelled elsewhere).</summary>
    internal void StopLocal(string workflowId)
    {
        if (_inflight.TryGetValue(workflowId, out var execution))
        {
            execution.Cancel();
        }
    }

    private async Task RunSlotAsync()
    {
        try
        {
            while (await _ready.Reader.WaitToReadAsync(_stopping.Token))
            {
                if (!_ready.Reader.TryRead(out var item))
                {
                    continue;
                }

                Interlocked.Decrement(ref _queued);
                await ExecuteAsync(item);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: leave what is queued for StopAsync to release.
        }
    }

    private async Task PollAsync(int orphanedWorkspaces)
    {
        var first = true;
        while (!_stopping.IsCancellationRequested)
        {
            var wake = ArmWake();

            // Timers due by now are served by this claim, which starts after this moment; later ones stay.
            DropTimersDueBy(_engine.Clock.GetUtcNow());
            var claimed = 0;
            var interrupted = 0;
            var reached = false;
            try
            {
                await ReleaseLeftoversAsync();
                (claimed, interrupted, var asked) = await ClaimAsync();
                reached = true;
                if (asked)
                {
                    // Only an answer ends a spell of trouble: with no room to claim, the store was not asked.
                    Volatile.Write(ref _pollFailures, 0);
                    StoreAnswered();
                }
            }
            catch (Exception ex) when (ex is RatchetException { IsTransient: true } or StoreOperationException or TimeoutException)
            {
                var failures = Interlocked.Increment(ref _pollFailures);
                StoreTrouble(ex);
                if (_untilIdle && failures >= _options.CommitAttempts)
                {
                    _storeFailure.TrySetResult(ex);
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }

            if (first)
            {
                first = false;
                var report = new RecoveryReport(interrupted, claimed, orphanedWorkspaces);
                Log.RecoverySummary(_engine.Logger, Owner, report.ResumedWorkflows, report.ClaimedWorkflows, report.OrphanedWorkspaces);
                if (_engine.Observers.HasObservers)
                {
                    _engine.Observers.Publish(new WorkflowEvent
                    {
                        Kind = WorkflowEventKind.RecoveryCompleted, WorkflowId = "", At = _engine.Clock.GetStoreNow(),
                        Message = $"{report.ClaimedWorkflows} workflows claimed, {report.OrphanedWorkspaces} orphaned workspaces marked",
                    });
                }

                _recovery.TrySetResult(report);
            }

            if (reached && claimed == 0 && _inflight.IsEmpty && Volatile.Read(ref _queued) == 0 && PendingTimers() == 0 && _unreleased.IsEmpty)
            {
                // Due work held by a lease of someone else: a dead local owner's is taken over now; a live or remote
                // owner's is waited for, since it is not done (the owner finishes it, or its lease lapses and it is ours).
                var heldElsewhere = 0;
                try
                {
                    // It lists the active workflows: every idle poll when idleness ends the run, else every few seconds.
                    var now = _engine.Clock.GetUtcNow();
                    if (_untilIdle || now >= _nextOwnerScan)
                    {
                        _nextOwnerScan = now + DeadOwnerScanInterval;
                        heldElsewhere = await TakeOverDeadOwnersAsync();
                    }
                }
                catch (Exception ex) when (ex is RatchetException { IsTransient: true } or StoreOperationException)
                {
                    StoreTrouble(ex);
                    heldElsewhere = 1;
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    return;
                }

                if (heldElsewhere == 0)
                {
                    _idle.TrySetResult();
                }
            }

            using var sleep = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            var delay = Task.Delay(NextWait(), _engine.Clock, sleep.Token);
            await Task.WhenAny(wake, delay);
            await sleep.CancelAsync();
        }
    }

    private async Task<(int Claimed, int Interrupted, bool Asked)> ClaimAsync()
    {
        var room = (_options.MaxConcurrency * 2) - _inflight.Count - Volatile.Read(ref _queued);
        if (room <= 0 || !IsAccepting)
        {
            return (0, 0, false);
        }

        var claimed = _focus is null
            ? await _engine.Store.ClaimDueWorkflowsAsync(new LeaseRequest
            {
                Owner = Owner,
                Duration = _options.LeaseDuration,
                MaxCount = room,
                Types = await _engine.ClaimTypesAsync(_stopping.Token),
            }, _stopping.Token)
            : await ClaimFocusedAsync();
        foreach (var workflow in claimed)
        {
            if (_faulted.TryGetValue(workflow.Id, out var until) && until > _engine.Clock.GetUtcNow())
            {
                // Its result could not be committed a moment ago: leave it to others (or to later) rather than loop.
                await TryReleaseAsync(workflow.Id);
                continue;
            }

            if (_inflight.ContainsKey(workflow.Id))
            {
                // Our own lease lapsed while we ran it and we claimed it back: the running execution will be fenced
                // by the new version and hand over to this record when it stops.
                _superseded[workflow.Id] = workflow;
                continue;
            }

            Interlocked.Increment(ref _queued);
            if (!_ready.Writer.TryWrite(new WorkItem(workflow, Fresh: false)))
            {
                Interlocked.Decrement(ref _queued);
                await TryReleaseAsync(workflow.Id);
            }
        }

        return (claimed.Count, claimed.Count(w => w.Status == WorkflowStatus.Running && w.Attempt > 0), true);
    }

    /// <summary>A focused runner claims, one by one, the due workflows of its (small) family only.</summary>
    private async Task<IReadOnlyList<WorkflowRecord>> ClaimFocusedAsync()
    {
        if (!_focusExpanded)
        {
            // Resuming a tree started earlier: its existing sub-workflows belong to the focus too.
            _focusExpanded = true;
            var pending = new Queue<string>(_focus!);
            while (pending.TryDequeue(out var parent))
            {
                var children = await _engine.Store.ListWorkflowsAsync(new WorkflowQuery { ParentId = parent, Limit = WorkflowQuery.MaxLimit }, _stopping.Token);
                foreach (var child in children.Items)
                {
                    AddToFocus(parent, child.Id);
                    pending.Enqueue(child.Id);
                }
            }
        }

        string[] ids;
        lock (_focus!)
        {
            ids = [.. _focus];
        }

        var now = _engine.Clock.GetStoreNow();
        var claimed = new List<WorkflowRecord>();
        foreach (var id in ids.Where(id => !_inflight.ContainsKey(id) && !_faulted.ContainsKey(id)))
        {
            var workflow = await _engine.Store.GetWorkflowAsync(id, _stopping.Token);
            if (workflow is { IsTerminal: false, LeaseOwner: { } holder } && workflow.LeaseExpiresAt > now && holder != Owner &&
                WorkerIdentity.Liveness(holder) == OwnerLiveness.Dead &&
                await _engine.Store.ReleaseLeaseAsync(id, holder, _stopping.Token))
            {
                // Its process is gone (killed, crashed): take it over now rather than when the lease lapses.
                workflow = workflow with { LeaseOwner = null, LeaseExpiresAt = null };
            }

            if (workflow is { IsTerminal: false, DueAt: { } due } && due <= now &&
                (workflow.LeaseOwner is null || workflow.LeaseExpiresAt <= now) &&
                await _engine.Store.ClaimWorkflowAsync(id, Owner, _options.LeaseDuration, _stopping.Token) is { } taken)
            {
                claimed.Add(taken);
            }
        }

        return claimed;
    }

    /// <summary>
    /// How long to sleep: until the earliest local timer, at most a poll interval. A timer that fell due since the last
    /// claim means no sleep at all: dropping it here instead would lose it (the claim before did not see it due).
    /// </summary>
    private TimeSpan NextWait()
    {
        var now = _engine.Clock.GetUtcNow();
        lock (_timers)
        {
            // While the store cannot be reached, look less and less often (up to every 30 s), not every poll interval.
            var failures = Volatile.Read(ref _pollFailures);
            var wait = failures == 0 ? _options.PollInterval : TimeSpan.FromTicks(Math.Min(
                _options.PollInterval.Ticks * (1L << Math.Min(failures, 16)), Math.Max(TimeSpan.FromSeconds(30).Ticks, _options.PollInterval.Ticks)));
            if (_timers.TryPeek(out _, out var next) && next - now < wait)
            {
                wait = next - now;
            }

            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
    }

    private void DropTimersDueBy(DateTimeOffset time)
    {
        lock (_timers)
        {
            while (_timers.TryPeek(out _, out var due) && due <= time)
            {
                _timers.Dequeue();
            }
        }
    }

    private int PendingTimers()
    {
        lock (_timers)
        {
            return _timers.Count;
        }
    }

    private void AddTimer(string workflowId, DateTimeOffset due)
    {
        lock (_timers)
        {
            _timers.Enqueue(workflowId, due);
        }

        Nudge();
    }

    private async Task RenewLeasesAsync()
    {
        var interval = _options.LeaseDuration / 3;
        var wait = interval;
        while (!_leasesDone.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(wait, _engine.Clock, _leasesDone.Token);
                var asked = _engine.Clock.GetUtcNow();
                await _engine.Store.RenewLeasesAsync(Owner, _options.LeaseDuration, CancellationToken.None);
                ConfirmLeases(asked);
                wait = interval;
            }
            catch (OperationCanceledException) when (_leasesDone.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is RatchetException)
            {
                // Try again soon: when the leases lapse unrenewed, the nodes they cover must stop (see WatchOwnershipAsync).
                StoreTrouble(ex);
                wait = interval < _options.PollInterval ? interval : _options.PollInterval;
            }
        }
    }

    /// <summary>Releases the leases a release could not reach the store for, unless their workflow runs here again.</summary>
    private async Task ReleaseLeftoversAsync()
    {
        foreach (var id in _unreleased.Keys)
        {
            // An execution that gave the workflow up is still in flight for a moment after it asked for the release;
            // only a live one means the workflow runs here again.
            if (_inflight.TryGetValue(id, out var running) && running.AbandonedBecause is null)
            {
                _unreleased.TryRemove(id, out _);
                continue;
            }

            // False means another owner holds it by now: nothing of ours to release either way.
            await _engine.Store.ReleaseLeaseAsync(id, Owner, _stopping.Token);
            _unreleased.TryRemove(id, out _);
        }
    }

    /// <summary>The store failed an operation: said once per spell of trouble (each part of the runner meets it), not at every try.</summary>
    private void StoreTrouble(Exception exception)
    {
        Volatile.Write(ref _lastStoreError, exception);
        if (Interlocked.Exchange(ref _inTrouble, 1) == 0)
        {
            Log.StoreTrouble(_engine.Logger, Owner, exception);
        }
    }

    /// <summary>The store answered: a spell of trouble, if there was one, is over.</summary>
    private void StoreAnswered()
    {
        if (Interlocked.Exchange(ref _inTrouble, 0) == 1)
        {
            Log.StoreBack(_engine.Logger, Owner);
        }
    }

    /// <summary>A workflow's result could not be committed: it is left to others for a lease's time, and the failure reported.</summary>
    private void Fault(string workflowId, Exception exception)
    {
        _faulted[workflowId] = _engine.Clock.GetUtcNow() + _options.LeaseDuration;
        _storeFailure.TrySetResult(exception);
    }

    /// <summary>One more renewal before giving nodes up for want of one: a late renewer is not a lost lease.</summary>
    private async Task<bool> TryRenewNowAsync()
    {
        try
        {
            var asked = _engine.Clock.GetUtcNow();
            await _engine.Store.RenewLeasesAsync(Owner, _options.LeaseDuration, _leasesDone.Token);
            ConfirmLeases(asked);
            return true;
        }
        catch (RatchetException ex)
        {
            StoreTrouble(ex);
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The leases this runner holds were renewed (or taken) at <paramref name="asked"/>: they hold until then plus a lease.</summary>
    private void ConfirmLeases(DateTimeOffset asked) =>
        Interlocked.Exchange(ref _leasesConfirmedUntilTicks, (asked + _options.LeaseDuration).UtcTicks);

    /// <summary>
    /// Makes sure every node running here still may: about once a second (<see cref="RatchetOptions.OwnershipCheckInterval"/>)
    /// it reads each workflow whose node has run that long. A workflow cancelled elsewhere (another process's
    /// <c>ratchet cancel</c>) has its node stopped; one whose lease is now someone else's, or whose lease this runner could
    /// not renew in time (the store was unreachable), has its node stopped without a commit, since another worker may
    /// run it now. This is what makes "at most one live attempt" hold across processes.
    /// </summary>
    private async Task WatchOwnershipAsync()
    {
        var interval = _options.OwnershipCheckInterval < _options.LeaseDuration / 3 ? _options.OwnershipCheckInterval : _options.LeaseDuration / 3;

        // Stop a little before the lease lapses by this clock: another worker's clock may run a little ahead.
        var margin = _options.LeaseDuration / 6;
        while (!_leasesDone.IsCancellationRequested)
        {
            try
            {
                // Ticking at half the interval, a node is looked at within one interval of the change.
                await Task.Delay(interval / 2, _engine.Clock, _leasesDone.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var now = _engine.Clock.GetUtcNow();
            var leasesHoldUntil = new DateTimeOffset(Interlocked.Read(ref _leasesConfirmedUntilTicks), TimeSpan.Zero);
            foreach (var (id, execution) in _inflight)
            {
                if (now >= leasesHoldUntil - margin && !await TryRenewNowAsync())
                {
                    execution.Abandon($"its lease ran out at {leasesHoldUntil:O} unrenewed (the store could not be reached)", Volatile.Read(ref _lastStoreError));
                    continue;
                }

                if (execution.Current is not { } expected || now - execution.Since < interval / 2)
                {
                    continue;
                }

                try
                {
                    var stored = await _engine.Store.GetWorkflowAsync(id, _leasesDone.Token);
                    if (execution.Current is not { } current || current.Version != expected.Version)
                    {
                        // It committed meanwhile: look again next time.
                        continue;
                    }

                    if (stored is null)
                    {
                        execution.Abandon("it was deleted");
                    }
                    else if (stored.Version != current.Version)
                    {
                        if (stored.Status == WorkflowStatus.Cancelled)
                        {
                            execution.Cancel();
                        }
                        else
                        {
                            execution.Abandon(stored.LeaseOwner is { } other && other != Owner
                                ? $"its lease was taken by {other}"
                                : $"it was changed elsewhere (now {stored.Status}, version {stored.Version})");
                        }
                    }
                    else if (stored.LeaseOwner != Owner)
                    {
                        execution.Abandon(stored.LeaseOwner is null ? "its lease was released elsewhere" : $"its lease was taken by {stored.LeaseOwner}");
                    }
                }
                catch (OperationCanceledException) when (_leasesDone.IsCancellationRequested)
                {
                    return;
                }
                catch (RatchetException ex)
                {
                    // Unreadable now: the lease check above stops the node if this lasts until the lease lapses.
                    StoreTrouble(ex);
                }
            }
        }
    }

    /// <summary>
    /// Releases the leases that dead processes of this machine hold on due work of this runner's types, so that the
    /// next claim takes them over at once, and counts the due work that others hold: live processes elsewhere, whose
    /// leases are waited for. Only a runner that takes any work does this; a focused one checks its own workflows.
    /// </summary>
    private async Task<int> TakeOverDeadOwnersAsync()
    {
        if (_focus is not null)
        {
            return 0;
        }

        var now = _engine.Clock.GetStoreNow();
        var heldElsewhere = 0;
        var released = 0;
        string? page = null;
        do
        {
            var listing = await _engine.Store.ListWorkflowsAsync(new WorkflowQuery
            {
                Statuses = [WorkflowStatus.Pending, WorkflowStatus.Running, WorkflowStatus.Waiting],
                Types = await _engine.ClaimTypesAsync(_stopping.Token),
                Limit = WorkflowQuery.MaxLimit,
                PageToken = page,
            }, _stopping.Token);
            foreach (var workflow in listing.Items)
            {
                if (workflow is not { LeaseOwner: { } holder } || holder == Owner || workflow.LeaseExpiresAt <= now)
                {
                    continue;
                }

                switch (WorkerIdentity.Liveness(holder))
                {
                    case OwnerLiveness.Dead:
                        if (await _engine.Store.ReleaseLeaseAsync(workflow.Id, holder, _stopping.Token))
                        {
                            released++;
                        }

                        break;
                    case OwnerLiveness.Unknown:
                        heldElsewhere++;
                        break;
                }
            }

            page = listing.NextPageToken;
        }
        while (page is not null);

        if (released > 0)
        {
            Nudge();
        }

        return heldElsewhere + released;
    }

    private async Task<int> MarkOrphanedWorkspacesAsync(CancellationToken cancellationToken)
    {
        var now = _engine.Clock.GetStoreNow();
        var orphaned = 0;
        foreach (var workspace in await _engine.Store.ListWorkspacesAsync(WorkspaceStatus.Active, cancellationToken))
        {
            var workflow = await _engine.Store.GetWorkflowAsync(workspace.WorkflowId, cancellationToken);
            // A workflow parked for a human, a signal, a child or a timer holds no lease and runs no node, yet its
            // workspace is in use: only a workflow that should be running and is held by nobody leaves an orphan.
            var held = workflow?.LeaseOwner is not null && workflow.LeaseExpiresAt > now;
            var stale = now - workspace.HeartbeatAt > _options.WorkspaceOrphanAfter;
            if (workflow is null || workflow.IsTerminal || (stale && !held && workflow.Status != WorkflowStatus.Waiting))
            {
                await _engine.Store.CommitAsync(new ChangeSet().PutWorkspace(workspace with { Status = WorkspaceStatus.Orphaned }), cancellationToken);
                orphaned++;
            }
        }

        return orphaned;
    }

    private async Task<bool> TryReleaseAsync(string workflowId)
    {
        try
        {
            var released = await _engine.Store.ReleaseLeaseAsync(workflowId, Owner, CancellationToken.None);
            _unreleased.TryRemove(workflowId, out _);
            return released;
        }
        catch (RatchetException ex)
        {
            // Released at the next poll that reaches the store: renewing every lease this runner holds would otherwise
            // keep a workflow that nothing here runs any more from everyone.
            StoreTrouble(ex);
            _unreleased[workflowId] = 0;
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    private readonly record struct WorkItem(WorkflowRecord Workflow, bool Fresh);

    /// <summary>One workflow running in this runner, with the means to stop it.</summary>
    private sealed class Execution(CancellationToken runnerAbort) : IDisposable
    {
        private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(runnerAbort);
        private WorkflowRecord? _current;

        public CancellationToken Token => _cancel.Token;

        /// <summary>Whether the workflow itself was cancelled (rather than the runner stopping).</summary>
        public bool CancelledByRequest { get; private set; }

        /// <summary>Why this runner may no longer run the workflow (its lease is gone); null while it may.</summary>
        public string? AbandonedBecause { get; private set; }

        /// <summary>The store's error, when the lease was given up because the store could not be reached to renew it.</summary>
        public Exception? AbandonedForStoreError { get; private set; }

        /// <summary>The workflow as this runner last committed it, while its node runs; null between nodes.</summary>
        public WorkflowRecord? Current => Volatile.Read(ref _current);

        /// <summary>When the current node started (by the engine's clock).</summary>
        public DateTimeOffset Since { get; private set; }

        /// <summary>The phase it runs, for a workflow run by phases (<see cref="PhaseWorkflows"/>).</summary>
        public PhaseSpec? Phase { get; set; }

        public void Running(WorkflowRecord workflow, DateTimeOffset since)
        {
            Since = since;
            Volatile.Write(ref _current, workflow);
        }

        public void Between() => Volatile.Write(ref _current, null);

        public void Cancel()
        {
            CancelledByRequest = true;
            Stop();
        }

        /// <summary>The lease is lost: stop the node and commit nothing (the commit would be refused; someone else may run it now).</summary>
        public void Abandon(string reason, Exception? storeError = null)
        {
            if (AbandonedBecause is null)
            {
                AbandonedBecause = reason;
                AbandonedForStoreError = storeError;
            }

            Stop();
        }

        public void Dispose() => _cancel.Dispose();

        private void Stop()
        {
            try
            {
                _cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already finished.
            }
        }
    }
}
