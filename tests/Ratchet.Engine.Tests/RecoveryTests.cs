using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 3, point 8: on start, a runner resumes a dead worker's workflows and marks orphaned workspaces.</summary>
public sealed class RecoveryTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Runner_WorkflowOfADeadWorkerWithAnExpiredLease_ResumesWithTheNextAttempt()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var attempts = new ConcurrentQueue<(int Attempt, string Key)>();
        var definition = Definition(attempts);
        using var timeout = Within.Seconds();
        var id = await LeaveRunningAsync(clock, definition, "dead-worker", TimeSpan.FromSeconds(30), timeout.Token);
        clock.Advance(TimeSpan.FromSeconds(31));

        var observer = new RecordingObserver();
        await using var engine = await TestEngines.Builder(_scratch.Database, clock).AddWorkflow(definition).AddObserver(observer).BuildAsync(timeout.Token);
        var runner = engine.CreateRunner();
        await runner.StartAsync(timeout.Token);
        var report = await runner.Recovery.WaitAsync(timeout.Token);
        var done = await engine.WaitForCompletionAsync(id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal([(2, $"{id}/Work/2")], attempts);
        var recovered = Assert.Single(await engine.Store.GetEventsAsync(id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Recovered);
        Assert.Equal(("Work", 2, "1"), (recovered.Node, recovered.Attempt, recovered.Payload!.Value.GetProperty("interruptedAttempt").GetString()));
        Assert.Equal([(2, StepOutcome.Completed)], (await engine.Store.GetStepsAsync(id, timeout.Token)).Select(s => (s.Attempt, s.Outcome)));
        await observer.WaitForAsync(e => e.WorkflowId == id && e.Kind == WorkflowEventKind.Recovered && e.Attempt == 2, timeout.Token);
        await observer.WaitForAsync(e => e.Kind == WorkflowEventKind.RecoveryCompleted, timeout.Token);
        Assert.Equal(new RecoveryReport(ResumedWorkflows: 1, ClaimedWorkflows: 1, OrphanedWorkspaces: 0), report);
    }

    [Fact]
    public async Task Runner_WorkflowWithALiveLeaseOfAnotherWorker_IsNotTakenUntilTheLeaseLapses()
    {
        // RunUntilIdleAsync sees the work done at its next poll, a timer: it runs in real time on this still clock.
        var clock = new FakeTimeProviderWithSystemTimers(TestClock.Start);
        var attempts = new ConcurrentQueue<(int Attempt, string Key)>();
        var definition = Definition(attempts);
        using var timeout = Within.Seconds();
        var id = await LeaveRunningAsync(clock, definition, "live-worker", TimeSpan.FromMinutes(5), timeout.Token);
        clock.Advance(TimeSpan.FromMinutes(1));

        await using var engine = await TestEngines.BuildAsync(_scratch.Database, clock, definition);
        var runner = engine.CreateRunner();
        var untilIdle = runner.RunUntilIdleAsync(timeout.Token);
        Assert.Equal(new RecoveryReport(0, 0, 0), await runner.Recovery.WaitAsync(timeout.Token));

        // Held by a worker this machine cannot see die: it is neither run nor given up on ("idle") while the lease holds.
        var workflow = await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        Assert.Equal((WorkflowStatus.Running, 1, "live-worker"), (workflow.Status, workflow.Attempt, workflow.LeaseOwner));
        Assert.Empty(attempts);
        Assert.False(untilIdle.IsCompleted, "--until-idle gave up on work another worker's lease still held.");

        clock.Advance(TimeSpan.FromMinutes(5));
        await untilIdle;
        Assert.Equal(WorkflowStatus.Completed, (await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token)).Status);
        Assert.Equal([(2, $"{id}/Work/2")], attempts);
    }

    [Fact]
    public async Task Runner_StoppedMidNode_ParksItInterruptedAndTheNextRunnerRunsTheSameAttemptAgain()
    {
        var attempts = new ConcurrentQueue<int>();
        var firstAttemptRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = new WorkflowBuilder("interrupted")
            .Node("Prepare", Nodes.Ok()).Then("Work")
            .Node("Work", async (context, cancellationToken) =>
            {
                attempts.Enqueue(context.Attempt);
                if (attempts.Count == 1)
                {
                    // Only the first run hangs: the run after the interruption is the same attempt.
                    firstAttemptRunning.TrySetResult();
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }

                return NodeResult.Success();
            })
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        using var timeout = Within.Seconds();
        string id;
        await using (var dying = engine.CreateRunner())
        {
            await dying.StartAsync(timeout.Token);
            id = (await engine.StartAsync("interrupted", cancellationToken: timeout.Token)).Id;
            await firstAttemptRunning.Task.WaitAsync(timeout.Token);
        }

        // A runner that stops its node knows it was not a failure: no retry used up, the same attempt runs again.
        var left = await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Interrupted, "Work", 1, (string?)null),
            (left.Status, left.WaitReason, left.CurrentNode, left.Attempt, left.LeaseOwner));
        var next = engine.CreateRunner();
        await next.RunUntilIdleAsync(timeout.Token);

        var done = await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal([1, 1], attempts);
        Assert.Equal([("Prepare", 1), ("Work", 1)], (await engine.Store.GetStepsAsync(id, timeout.Token)).Select(s => (s.Node, s.Attempt)));
        var events = await engine.Store.GetEventsAsync(id, cancellationToken: timeout.Token);
        Assert.Equal(("Work", 1), Assert.Single(events, e => e.Type == AuditEventTypes.Interrupted) is var interrupted ? (interrupted.Node, interrupted.Attempt) : default);
        Assert.DoesNotContain(events, e => e.Type == AuditEventTypes.Recovered);
    }

    [Fact]
    public async Task Runner_ActiveWorkspaces_MarkedOrphanedWhenTheirWorkflowEndedOrNobodyRunsItAndTheHeartbeatIsStale()
    {
        // RunUntilIdleAsync sees the work done at its next poll, a timer: it runs in real time on this still clock.
        var clock = new FakeTimeProviderWithSystemTimers(TestClock.Start);
        var ended = new WorkflowBuilder("ended").Node("A", Nodes.Ok()).Build();
        var parked = new WorkflowBuilder("parked").Approval("Review", "OK?").Build();
        using var timeout = Within.Seconds();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, clock, ended, parked);
        var endedId = (await engine.StartAsync("ended", cancellationToken: timeout.Token)).Id;
        var staleId = (await engine.StartAsync("parked", cancellationToken: timeout.Token)).Id;
        var freshId = (await engine.StartAsync("parked", cancellationToken: timeout.Token)).Id;
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);
        var heldId = (await engine.StartAsync("parked", cancellationToken: timeout.Token)).Id;
        await engine.Store.ClaimWorkflowAsync(heldId, "live-worker", TimeSpan.FromHours(2), timeout.Token);

        // Pending for a type no runner here knows, held by nobody: a workflow nobody runs, left by a dead process.
        var abandonedId = (await new WorkflowCreator(engine.Store, clock).CreateAsync(new NewWorkflow { Type = "unknown-here" }, timeout.Token)).Workflow.Id;

        var now = clock.GetStoreNow();
        var longAgo = now - TimeSpan.FromHours(1);
        await engine.Store.CommitAsync(new ChangeSet()
            .PutWorkspace(Workspace(endedId, now))
            .PutWorkspace(Workspace(staleId, longAgo))
            .PutWorkspace(Workspace(freshId, now))
            .PutWorkspace(Workspace(heldId, longAgo))
            .PutWorkspace(Workspace(abandonedId, longAgo)), timeout.Token);

        var runner = engine.CreateRunner();
        await runner.StartAsync(timeout.Token);
        var report = await runner.Recovery.WaitAsync(timeout.Token);
        await runner.StopAsync(timeout.Token);

        Assert.Equal(2, report.OrphanedWorkspaces);
        var statuses = (await engine.Store.ListWorkspacesAsync(cancellationToken: timeout.Token)).ToDictionary(w => w.WorkflowId, w => w.Status);
        Assert.Equal(WorkspaceStatus.Orphaned, statuses[endedId]);
        Assert.Equal(WorkspaceStatus.Orphaned, statuses[abandonedId]);

        // Parked for a human, however long: its workspace holds the work under review.
        Assert.Equal(WorkspaceStatus.Active, statuses[staleId]);
        Assert.Equal(WorkspaceStatus.Active, statuses[freshId]);
        Assert.Equal(WorkspaceStatus.Active, statuses[heldId]);
    }

    private static WorkspaceRecord Workspace(string workflowId, DateTimeOffset heartbeat) => new()
    {
        WorkflowId = workflowId,
        Path = $"/tmp/workspaces/{workflowId}",
        Status = WorkspaceStatus.Active,
        CreatedAt = heartbeat,
        HeartbeatAt = heartbeat,
    };

    private static WorkflowDefinition Definition(ConcurrentQueue<(int Attempt, string Key)> attempts) => new WorkflowBuilder("recoverable")
        .Node("Work", (context, _) =>
        {
            attempts.Enqueue((context.Attempt, context.IdempotencyKey));
            return Task.FromResult(NodeResult.Success());
        })
        .Build();

    /// <summary>
    /// What a worker that died mid-node leaves behind, written through the store as a worker writes it: the workflow
    /// Running at its first node, attempt 1, leased by <paramref name="owner"/> for <paramref name="lease"/>.
    /// </summary>
    private async Task<string> LeaveRunningAsync(FakeTimeProvider clock, WorkflowDefinition definition, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, clock, definition);
        var pending = await engine.StartAsync(definition.Name, cancellationToken: cancellationToken);
        var claimed = await engine.Store.ClaimWorkflowAsync(pending.Id, owner, lease, cancellationToken);
        Assert.NotNull(claimed);
        var now = clock.GetStoreNow();
        await engine.Store.CommitAsync(new ChangeSet()
            .UpdateWorkflow(claimed.TransitionTo(WorkflowStatus.Running, now) with { Attempt = 1 })
            .AppendEvent(new AuditEvent { WorkflowId = pending.Id, Type = AuditEventTypes.NodeStarted, Node = definition.StartNode, Attempt = 1, At = now }),
            cancellationToken);
        var left = await engine.Store.GetRequiredWorkflowAsync(pending.Id, cancellationToken);
        Assert.Equal((WorkflowStatus.Running, 1, owner), (left.Status, left.Attempt, left.LeaseOwner));
        return pending.Id;
    }
}
