using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 3, point 3: starting, running, resuming, cancelling, retrying, signalling and waiting.</summary>
public sealed class ExecutorTests : IDisposable
{
    private static readonly TimeSpan LongPoll = TimeSpan.FromHours(1);

    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task StartAsync_SameIdTwice_ReturnsTheSameWorkflowAndRunsItOnce()
    {
        var runs = 0;
        var definition = new WorkflowBuilder("once")
            .Node("Work", (_, _) =>
            {
                Interlocked.Increment(ref runs);
                return Task.FromResult(NodeResult.Success());
            })
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();

        var first = await engine.StartAsync("once", new { n = 1 }, new StartOptions { Id = "order-42" }, timeout.Token);
        var second = await engine.StartAsync("once", new { n = 2 }, new StartOptions { Id = "order-42" }, timeout.Token);
        var done = await engine.WaitForCompletionAsync("order-42", timeout.Token);
        var third = await engine.StartAsync("once", new { n = 3 }, new StartOptions { Id = "order-42" }, timeout.Token);

        Assert.Equal(("order-42", first.CreatedAt), (second.Id, second.CreatedAt));
        Assert.Equal(1, second.Input!.Value.GetProperty("n").GetInt32());
        Assert.Equal((WorkflowStatus.Completed, done.Version), (third.Status, third.Version));
        Assert.Equal(1, runs);
        var all = await engine.Store.ListWorkflowsAsync(new WorkflowQuery { Types = ["once"] }, timeout.Token);
        Assert.Single(all.Items);
        Assert.Single(await engine.Store.GetEventsAsync("order-42", cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Created);
    }

    [Fact]
    public async Task StartAsync_SameIdOtherType_IsRefused()
    {
        var one = new WorkflowBuilder("one").Node("A", Nodes.Ok()).Build();
        var two = new WorkflowBuilder("two").Node("A", Nodes.Ok()).Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, one, two);
        await engine.StartAsync("one", options: new StartOptions { Id = "shared-id" });

        var error = await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(() => engine.StartAsync("two", options: new StartOptions { Id = "shared-id" }));

        Assert.Contains("'one'", error.Message);
    }

    [Fact]
    public async Task StartAsync_UnknownType_IsRefusedNamingKnownTypes()
    {
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, new WorkflowBuilder("known").Node("A", Nodes.Ok()).Build());

        var error = await Assert.ThrowsAsync<UnknownWorkflowTypeException>(() => engine.StartAsync("unknown"));

        Assert.Equal("unknown", error.Type);
        Assert.Contains("Known types: known.", error.Message);
    }

    [Fact]
    public async Task StartAsync_WithRunningRunner_CompletesWithoutWaitingForThePoll()
    {
        var definition = new WorkflowBuilder("pushed")
            .Node("A", Nodes.Ok(1)).Then("B")
            .Node("B", Nodes.Ok(2)).Then("C")
            .Node("C", Nodes.Ok(3))
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database)
            .AddWorkflow(definition).Configure(o => o.PollInterval = LongPoll));
        using var timeout = Within.Seconds(10);

        var started = await engine.StartAsync("pushed", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
    }

    [Fact]
    public async Task RetryBackoff_WithRunningRunner_RunsFromTheInMemoryTimerNotThePoll()
    {
        var definition = new WorkflowBuilder("timer-push")
            .Node("Flaky", Nodes.FailFirst(1)).WithRetry(Nodes.Retry(2, TimeSpan.FromMilliseconds(100)))
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database)
            .AddWorkflow(definition).Configure(o => o.PollInterval = LongPoll));
        using var timeout = Within.Seconds(10);

        var started = await engine.StartAsync("timer-push", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Completed, 2), (done.Status, done.Artifacts["Flaky"].GetProperty("attempt").GetInt32()));
    }

    [Fact]
    public async Task Run_EachNode_CommitsStepAndEventBeforeTheNextNodeStarts()
    {
        WorkflowEngine? engine = null;
        var seenByNextNode = new ConcurrentDictionary<string, (IReadOnlyList<StepRecord> Steps, IReadOnlyList<AuditEvent> Events)>();
        async Task<NodeResult> Look(NodeContext context, CancellationToken cancellationToken)
        {
            seenByNextNode[context.Node] = (await engine!.Store.GetStepsAsync(context.WorkflowId, cancellationToken),
                await engine.Store.GetEventsAsync(context.WorkflowId, cancellationToken: cancellationToken));
            return NodeResult.Success(context.Node.ToLowerInvariant());
        }

        var definition = new WorkflowBuilder("journal")
            .Node("A", Look).Then("B")
            .Node("B", Look).Then("C")
            .Node("C", Look)
            .Build();
        engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        await using var disposeEngine = engine;
        using var timeout = Within.Seconds();

        var started = await engine.StartAsync("journal", cancellationToken: timeout.Token);
        await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Empty(seenByNextNode["A"].Steps);
        Assert.Equal(["A"], seenByNextNode["B"].Steps.Select(s => s.Node));
        Assert.Equal(["A", "B"], seenByNextNode["C"].Steps.Select(s => s.Node));
        Assert.Equal(["A"], NodesCompleted(seenByNextNode["B"].Events));
        Assert.Equal(["A", "B"], NodesCompleted(seenByNextNode["C"].Events));
        var steps = await engine.Store.GetStepsAsync(started.Id, timeout.Token);
        Assert.Equal([("A", 1, StepOutcome.Completed, "a"), ("B", 1, StepOutcome.Completed, "b"), ("C", 1, StepOutcome.Completed, "c")],
            steps.Select(s => (s.Node, s.Attempt, s.Outcome, s.Output!.Value.GetString())));
        Assert.Equal([1L, 2L, 3L], steps.Select(s => s.Sequence));
        Assert.Equal(["A", "B", "C"], NodesCompleted(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token)));

        static IEnumerable<string?> NodesCompleted(IReadOnlyList<AuditEvent> events) =>
            events.Where(e => e.Type == AuditEventTypes.NodeCompleted).Select(e => e.Node);
    }

    [Fact]
    public async Task ResumeAsync_DuringALongBackoff_RunsTheRetryNow()
    {
        var definition = new WorkflowBuilder("resume")
            .Node("Flaky", Nodes.FailFirst(1)).WithRetry(Nodes.Retry(2, TimeSpan.FromHours(1)) with { MaxDelay = TimeSpan.FromHours(2) })
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("resume", cancellationToken: timeout.Token);
        var waiting = await engine.WaitForAsync(started.Id, w => w is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Timer }, timeout.Token);
        Assert.True(waiting.DueAt > DateTimeOffset.UtcNow.AddMinutes(50));

        await engine.ResumeAsync(started.Id, timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal([(1, StepOutcome.Failed), (2, StepOutcome.Completed)],
            (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => (s.Attempt, s.Outcome)));
    }

    [Fact]
    public async Task ResumeAsync_EndedOrWaitingForAHumanOrMissing_IsRefused()
    {
        var done = new WorkflowBuilder("done").Node("A", Nodes.Ok()).Build();
        var approval = new WorkflowBuilder("needs-approval").Approval("Review", "OK?").Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, done, approval);
        var completed = await engine.StartAsync("done");
        var parked = await engine.StartAsync("needs-approval");
        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var ended = await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.ResumeAsync(completed.Id));
        var human = await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.ResumeAsync(parked.Id));
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => engine.ResumeAsync("no-such-id"));

        Assert.Contains("nothing to resume", ended.Message);
        Assert.Contains("approve or reject it", human.Message);
    }

    [Fact]
    public async Task CancelAsync_RunningNode_NodeObservesCancellationAndWorkflowIsCancelled()
    {
        var nodeStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var nodeCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var afterRan = false;
        var definition = new WorkflowBuilder("cancellable")
            .Node("Block", async (_, cancellationToken) =>
            {
                nodeStarted.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    nodeCancelled.TrySetResult();
                    throw;
                }

                return NodeResult.Success();
            }).Then("After")
            .Node("After", (_, _) =>
            {
                afterRan = true;
                return Task.FromResult(NodeResult.Success());
            })
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("cancellable", cancellationToken: timeout.Token);
        await nodeStarted.Task.WaitAsync(timeout.Token);

        var cancelled = await engine.CancelAsync(started.Id, "no longer needed", timeout.Token);
        await nodeCancelled.Task.WaitAsync(timeout.Token);
        var ended = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Cancelled, cancelled.Status);
        Assert.Equal((WorkflowStatus.Cancelled, "cancelled", "no longer needed"), (ended.Status, ended.Error!.Type, ended.Error.Message));
        Assert.False(afterRan);
        Assert.DoesNotContain(await engine.Store.GetStepsAsync(started.Id, timeout.Token), s => s.Outcome == StepOutcome.Completed);
        await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.CancelAsync(started.Id));
    }

    [Fact]
    public async Task RetryAsync_FailedWorkflow_RunsAgainFromTheFailedNodeWithItsNextAttempt()
    {
        var ranA = 0;
        var attemptsOfB = new ConcurrentQueue<int>();
        var failB = true;
        var definition = new WorkflowBuilder("retry-me")
            .Node("A", (_, _) =>
            {
                Interlocked.Increment(ref ranA);
                return Task.FromResult(NodeResult.Success());
            }).Then("B")
            .Node("B", (context, _) =>
            {
                attemptsOfB.Enqueue(context.Attempt);
                return Volatile.Read(ref failB) ? throw new InvalidOperationException("service down") : Task.FromResult(NodeResult.Success("ok"));
            }).WithRetry(RetryPolicy.None)
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("retry-me", cancellationToken: timeout.Token);
        var failed = await engine.WaitForCompletionAsync(started.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Failed, "B", "service down"), (failed.Status, failed.CurrentNode, failed.Error!.Message));

        Volatile.Write(ref failB, false);
        var retried = await engine.RetryAsync(started.Id, cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Timer, "B", 2), (retried.Status, retried.WaitReason, retried.CurrentNode, retried.Attempt));
        Assert.Equal((WorkflowStatus.Completed, "ok"), (done.Status, done.Artifacts["B"].GetString()));
        Assert.Null(done.Error);
        Assert.Equal(1, ranA);
        Assert.Equal([1, 2], attemptsOfB);
        Assert.Equal([("A", 1, StepOutcome.Completed), ("B", 1, StepOutcome.Failed), ("B", 2, StepOutcome.Completed)],
            (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => (s.Node, s.Attempt, s.Outcome)));
        var retriedEvent = Assert.Single(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Retried);
        Assert.Equal(("B", "service down"), (retriedEvent.Node, retriedEvent.Payload!.Value.GetProperty("previousError").GetString()));
    }

    [Fact]
    public async Task RetryAsync_NotFailed_IsRefused()
    {
        var definition = new WorkflowBuilder("fine").Node("A", Nodes.Ok()).Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("fine");
        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var error = await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.RetryAsync(started.Id));

        Assert.Contains("Only a Failed or Cancelled workflow can be retried", error.Message);
    }

    [Fact]
    public async Task RetryAsync_FromAnUnknownNode_IsRefusedNamingItAndTheNodesAndChangesNothing()
    {
        var definition = new WorkflowBuilder("broken")
            .Node("A", Nodes.Ok()).Then("B")
            .Node("B", (_, _) => throw new InvalidOperationException("down")).WithRetry(RetryPolicy.None)
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("broken");
        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);
        var failed = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);

        var error = await Assert.ThrowsAsync<UnknownNodeException>(() => engine.RetryAsync(started.Id, "nope", timeout.Token));

        Assert.Equal(("broken", definition.Version, "nope", "unknown-node"), (error.WorkflowType, error.Version, error.Node, error.ErrorCode));
        Assert.Equal(["A", "B"], error.Nodes);
        Assert.Equal($"Workflow 'broken' (version {definition.Version}) has no node 'nope'. Its nodes are: A, B.", error.Message);
        var after = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Failed, failed.Version), (after.Status, after.Version));
    }

    [Fact]
    public async Task SignalAsync_WaitingForIt_PayloadBecomesTheOutputAndTheWorkflowGoesOn()
    {
        string? seenByNext = null;
        var definition = new WorkflowBuilder("signalled")
            .Node("Prepare", Nodes.Ok()).Then("Wait")
            .WaitForSignal("Wait", "deployed").Then("Verify")
            .Node("Verify", (context, _) =>
            {
                seenByNext = context.Get<Deployment>("Wait").Environment;
                return Task.FromResult(NodeResult.Success());
            })
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database)
            .AddWorkflow(definition).Configure(o => o.PollInterval = LongPoll));
        using var timeout = Within.Seconds(10);
        var started = await engine.StartAsync("signalled", cancellationToken: timeout.Token);
        var waiting = await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);
        Assert.Equal((WaitReason.Signal, "deployed", "Wait"), (waiting.WaitReason, waiting.WaitDetail, waiting.CurrentNode));

        await engine.SignalAsync(started.Id, "deployed", new Deployment("staging"), timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal("staging", seenByNext);
        Assert.Equal("staging", done.Artifacts["Wait"].GetProperty("environment").GetString());
        var signal = Assert.Single(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Signal);
        Assert.Equal(("Wait", "deployed"), (signal.Node, signal.Payload!.Value.GetProperty("signal").GetString()));
    }

    [Fact]
    public async Task SignalAsync_NotWaitingForThatSignal_IsRefused()
    {
        var definition = new WorkflowBuilder("signal-refused").WaitForSignal("Wait", "go").Then("After").Node("After", Nodes.Ok()).Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("signal-refused");
        using var timeout = Within.Seconds();

        // Not yet waiting (Pending: no runner has run it).
        await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.SignalAsync(started.Id, "go"));
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);
        // Waiting, but for another signal.
        var wrong = await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.SignalAsync(started.Id, "stop"));
        Assert.Contains("not waiting for the signal 'stop'", wrong.Message);
        var stillWaiting = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Signal), (stillWaiting.Status, stillWaiting.WaitReason));

        await engine.SignalAsync(started.Id, "go", cancellationToken: timeout.Token);
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);
        Assert.Equal(WorkflowStatus.Completed, (await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token)).Status);
        // Ended: refused too.
        await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.SignalAsync(started.Id, "go"));
    }

    [Fact]
    public async Task WaitForCompletionAsync_FailedWorkflow_ReturnsTheFailedRecord()
    {
        var definition = new WorkflowBuilder("fails").Node("A", (_, _) => throw new InvalidOperationException("nope")).WithRetry(RetryPolicy.None).Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("fails", cancellationToken: timeout.Token);

        var ended = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Failed, "nope"), (ended.Status, ended.Error!.Message));
        Assert.NotNull(ended.CompletedAt);
    }

    [Fact]
    public async Task WaitForCompletionAsync_WorkflowThatNeverEnds_HonoursCancellation()
    {
        var definition = new WorkflowBuilder("parked").Approval("Review", "OK?").Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        var started = await engine.StartAsync("parked");
        using var shortWait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.WaitForCompletionAsync(started.Id, shortWait.Token));
    }

    [Fact]
    public async Task Runner_MaxConcurrencyTwo_NeverRunsMoreThanTwoNodesAtOnce()
    {
        var running = 0;
        var peak = 0;
        async Task<NodeResult> Work(NodeContext context, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref running);
            int seen;
            while (now > (seen = Volatile.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
            {
            }

            await Task.Delay(TimeSpan.FromMilliseconds(60), cancellationToken);
            Interlocked.Decrement(ref running);
            return NodeResult.Success();
        }

        var definition = new WorkflowBuilder("bounded")
            .Node("First", Work).Then("Second")
            .Node("Second", Work)
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database)
            .AddWorkflow(definition).Configure(o => o.MaxConcurrency = 2));
        using var timeout = Within.Seconds();

        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add((await engine.StartAsync("bounded", cancellationToken: timeout.Token)).Id);
        }

        foreach (var id in ids)
        {
            Assert.Equal(WorkflowStatus.Completed, (await engine.WaitForCompletionAsync(id, timeout.Token)).Status);
        }

        Assert.Equal(2, peak);
    }

    [Fact]
    public async Task Delay_Node_ParksUntilItsDueTimeThenGoesOn()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var definition = new WorkflowBuilder("sleepy")
            .Delay("Sleep", TimeSpan.FromHours(2)).Then("Wake")
            .Node("Wake", Nodes.Ok())
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, clock).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var start = clock.GetUtcNow();
        var started = await engine.StartAsync("sleepy", cancellationToken: timeout.Token);

        var sleeping = await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);
        Assert.Equal((WaitReason.Timer, start + TimeSpan.FromHours(2)), (sleeping.WaitReason, sleeping.DueAt));
        clock.Advance(TimeSpan.FromHours(2));
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(["Sleep", "Wake"], (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => s.Node));
    }

    [Fact]
    public async Task SignalAsync_SignalIsTheLastNode_CompletesTheWorkflow()
    {
        var definition = new WorkflowBuilder("signal-last").Node("Prepare", Nodes.Ok()).Then("Wait").WaitForSignal("Wait", "go").Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("signal-last", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);

        var signalled = await engine.SignalAsync(started.Id, "go", "payload", timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, signalled.Status);
        Assert.Equal("payload", (await engine.WaitForCompletionAsync(started.Id, timeout.Token)).Artifacts["Wait"].GetString());
    }

    [Fact]
    public async Task Delay_AsTheLastNode_CompletesTheWorkflowWhenDue()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var definition = new WorkflowBuilder("cool-down").Node("Work", Nodes.Ok()).Then("CoolDown").Delay("CoolDown", TimeSpan.FromMinutes(10)).Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, clock).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("cool-down", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);

        clock.Advance(TimeSpan.FromMinutes(10));
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Completed, "CoolDown"), (done.Status, done.CurrentNode));
    }

    private sealed record Deployment(string Environment);
}
