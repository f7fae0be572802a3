using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 3, point 4: retry policies, persisted back-off (also across a restart), node and workflow timeouts.</summary>
public sealed class RetryTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void DelayAfter_WithoutJitter_GrowsExponentiallyUpToMaxDelay()
    {
        var policy = new RetryPolicy { MaxAttempts = 6, InitialDelay = TimeSpan.FromSeconds(10), BackoffFactor = 3, MaxDelay = TimeSpan.FromMinutes(1), Jitter = 0 };

        var delays = Enumerable.Range(1, 4).Select(attempt => policy.DelayAfter(attempt, new Random(1))).ToArray();

        Assert.Equal([TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60)], delays);
    }

    [Fact]
    public void DelayAfter_WithJitter_StaysWithinItsShare()
    {
        var policy = new RetryPolicy { InitialDelay = TimeSpan.FromSeconds(10), Jitter = 0.2 };
        var random = new Random(7);

        var delays = Enumerable.Range(0, 200).Select(_ => policy.DelayAfter(1, random)).ToArray();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12)));
        Assert.True(delays.Distinct().Count() > 1, "jitter should spread the delays");
    }

    [Fact]
    public async Task Retry_ExponentialBackoff_PersistsEachAttemptAndDueTime()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var attempts = new ConcurrentQueue<int>();
        var definition = new WorkflowBuilder("backoff")
            .Node("Flaky", (context, _) =>
            {
                attempts.Enqueue(context.Attempt);
                return context.Attempt < 4 ? throw new TimeoutException("slow upstream") : Task.FromResult(NodeResult.Success());
            }).WithRetry(new RetryPolicy { MaxAttempts = 4, InitialDelay = TimeSpan.FromSeconds(10), BackoffFactor = 3, MaxDelay = TimeSpan.FromMinutes(1), Jitter = 0 })
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, clock).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("backoff", cancellationToken: timeout.Token);

        foreach (var (nextAttempt, delay) in new[] { (2, TimeSpan.FromSeconds(10)), (3, TimeSpan.FromSeconds(30)), (4, TimeSpan.FromSeconds(60)) })
        {
            var waiting = await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting && w.Attempt == nextAttempt, timeout.Token);
            Assert.Equal(WaitReason.Timer, waiting.WaitReason);
            Assert.Equal(clock.GetUtcNow() + delay, waiting.DueAt);
            clock.Advance(delay);
        }

        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal([1, 2, 3, 4], attempts);
        var scheduled = (await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token)).Where(e => e.Type == AuditEventTypes.RetryScheduled).ToArray();
        Assert.Equal([(2, "10000"), (3, "30000"), (4, "60000")],
            scheduled.Select(e => (e.Attempt ?? 0, e.Payload!.Value.GetProperty("delayMs").GetString())));
    }

    [Fact]
    public async Task Retry_ExceptionNotMatchingShouldRetry_FailsAtOnce()
    {
        var definition = new WorkflowBuilder("selective")
            .Node("Call", (_, _) => throw new ArgumentException("bad request")).WithRetry(RetryPolicy.On(5, typeof(TimeoutException)) with { Jitter = 0 })
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("selective");
        using var timeout = Within.Seconds();

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Failed, "bad request"), (workflow.Status, workflow.Error!.Message));
        Assert.Single(await engine.Store.GetStepsAsync(started.Id, timeout.Token));
        Assert.DoesNotContain(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.RetryScheduled);
    }

    [Fact]
    public async Task Retry_ExceptionMatchingShouldRetry_IsRetried()
    {
        var definition = new WorkflowBuilder("selective-retried")
            .Node("Call", Nodes.FailFirst(2, () => new TimeoutException("slow"))).WithRetry(RetryPolicy.On(5, typeof(TimeoutException)) with
            {
                InitialDelay = TimeSpan.FromMilliseconds(10), Jitter = 0,
            })
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("selective-retried");
        using var timeout = Within.Seconds();

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal([StepOutcome.Failed, StepOutcome.Failed, StepOutcome.Completed], (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => s.Outcome));
    }

    [Fact]
    public async Task Retry_AttemptsExhausted_FailsWithTheLastError()
    {
        var definition = new WorkflowBuilder("exhausted")
            .Node("Call", (context, _) => throw new InvalidOperationException($"failure {context.Attempt}")).WithRetry(Nodes.Retry(3, TimeSpan.FromMilliseconds(10)))
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("exhausted");
        using var timeout = Within.Seconds();

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Failed, "failure 3"), (workflow.Status, workflow.Error!.Message));
        Assert.Equal([1, 2, 3], (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => s.Attempt));
    }

    [Fact]
    public async Task Retry_DefaultRetryOfTheWorkflow_AppliesToNodesWithoutTheirOwn()
    {
        var definition = new WorkflowBuilder("defaults")
            .DefaultRetry(Nodes.Retry(2, TimeSpan.FromMilliseconds(10)))
            .Node("Inherits", Nodes.FailFirst(1)).Then("Own")
            .Node("Own", Nodes.FailFirst(1)).WithRetry(RetryPolicy.None)
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("defaults");
        using var timeout = Within.Seconds();

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Failed, "Own"), (workflow.Status, workflow.CurrentNode));
        Assert.Equal([("Inherits", 1, StepOutcome.Failed), ("Inherits", 2, StepOutcome.Completed), ("Own", 1, StepOutcome.Failed)],
            (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => (s.Node, s.Attempt, s.Outcome)));
    }

    [Fact]
    public async Task Backoff_SpanningARestart_IsNeitherResetNorSkipped()
    {
        // RunUntilIdleAsync sees the work done at its next poll, a timer: it runs in real time on this still clock.
        var clock = new FakeTimeProviderWithSystemTimers(TestClock.Start);
        var start = clock.GetUtcNow();
        var attempts = new ConcurrentQueue<int>();
        var definition = new WorkflowBuilder("restart-backoff")
            .Node("Flaky", (context, _) =>
            {
                attempts.Enqueue(context.Attempt);
                return context.Attempt == 1 ? throw new IOException("connection reset") : Task.FromResult(NodeResult.Success());
            }).WithRetry(Nodes.Retry(3, TimeSpan.FromSeconds(10)))
            .Build();
        using var timeout = Within.Seconds();

        // First process: the node fails, a retry is scheduled at T+10s; then the process goes away.
        string id;
        await using (var first = await TestEngines.BuildAsync(_scratch.Database, clock, definition))
        {
            await using var runner = first.CreateRunner();
            await runner.StartAsync(timeout.Token);
            id = (await first.StartAsync("restart-backoff", cancellationToken: timeout.Token)).Id;
            var waiting = await first.WaitForAsync(id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);
            Assert.Equal((WaitReason.Timer, 2, start + TimeSpan.FromSeconds(10)), (waiting.WaitReason, waiting.Attempt, waiting.DueAt));
        }

        // Second process, 5 s later: the back-off is not over, so nothing runs, and nothing about it changed.
        await using var second = await TestEngines.BuildAsync(_scratch.Database, clock, definition);
        clock.Advance(TimeSpan.FromSeconds(5));
        await second.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var early = await second.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Timer, 2, start + TimeSpan.FromSeconds(10)), (early.Status, early.WaitReason, early.Attempt, early.DueAt));
        Assert.Equal([1], attempts);

        // Past the due time: attempt 2 runs and completes.
        clock.Advance(TimeSpan.FromSeconds(6));
        await second.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var done = await second.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal([1, 2], attempts);
        Assert.Equal([(1, StepOutcome.Failed), (2, StepOutcome.Completed)],
            (await second.Store.GetStepsAsync(id, timeout.Token)).Select(s => (s.Attempt, s.Outcome)));
        var retryScheduled = Assert.Single(await second.Store.GetEventsAsync(id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.RetryScheduled);
        Assert.Equal((start + TimeSpan.FromSeconds(10)).ToString("O", CultureInfo.InvariantCulture), retryScheduled.Payload!.Value.GetProperty("dueAt").GetString());
        var completedStep = (await second.Store.GetStepsAsync(id, timeout.Token)).Last();
        Assert.Equal(start + TimeSpan.FromSeconds(11), completedStep.FinishedAt);
    }

    [Fact]
    public async Task NodeTimeout_AttemptRunsTooLong_IsCancelledAndRetried()
    {
        var cancelledAttempts = new ConcurrentQueue<int>();
        var definition = new WorkflowBuilder("node-timeout")
            .Node("Slow", async (context, cancellationToken) =>
            {
                if (context.Attempt == 1)
                {
                    try
                    {
                        await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                    }
                    catch (OperationCanceledException)
                    {
                        cancelledAttempts.Enqueue(context.Attempt);
                        throw;
                    }
                }

                return NodeResult.Success();
            }).WithTimeout(TimeSpan.FromMilliseconds(200)).WithRetry(Nodes.Retry(2, TimeSpan.FromMilliseconds(10)))
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("node-timeout");
        using var timeout = Within.Seconds();

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal(WorkflowStatus.Completed, workflow.Status);
        Assert.Equal([1], cancelledAttempts);
        var steps = await engine.Store.GetStepsAsync(started.Id, timeout.Token);
        Assert.Equal([(1, StepOutcome.Failed, "timeout"), (2, StepOutcome.Completed, null)], steps.Select(s => (s.Attempt, s.Outcome, s.Error?.Type)));
    }

    [Fact]
    public async Task NodeTimeout_WithoutRetries_FailsTheWorkflow()
    {
        var definition = new WorkflowBuilder("node-timeout-fails")
            .Node("Slow", async (_, cancellationToken) =>
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                return NodeResult.Success();
            }).WithTimeout(TimeSpan.FromMilliseconds(100)).WithRetry(RetryPolicy.None)
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("node-timeout-fails");
        using var timeout = Within.Seconds();

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Failed, "timeout"), (workflow.Status, workflow.Error!.Type));
        Assert.Contains("'Slow' ran longer than", workflow.Error.Message);
    }

    [Fact]
    public async Task WorkflowTimeout_DeadlinePassedBetweenNodes_FailsWithoutRunningTheNext()
    {
        // RunUntilIdleAsync sees the work done at its next poll, a timer: it runs in real time on this still clock.
        var clock = new FakeTimeProviderWithSystemTimers(TestClock.Start);
        var nextRan = false;
        var definition = new WorkflowBuilder("workflow-deadline")
            .Timeout(TimeSpan.FromHours(1))
            .Node("Long", (_, _) =>
            {
                clock.Advance(TimeSpan.FromHours(2));
                return Task.FromResult(NodeResult.Success());
            }).Then("Next")
            .Node("Next", (_, _) =>
            {
                nextRan = true;
                return Task.FromResult(NodeResult.Success());
            }).OnFailure("Cleanup")
            .Node("Cleanup", Nodes.Ok()).FailsWorkflow()
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, clock, definition);
        var started = await engine.StartAsync("workflow-deadline");
        using var timeout = Within.Seconds();

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Failed, "workflow-timeout", "Next"), (workflow.Status, workflow.Error!.Type, workflow.CurrentNode));
        Assert.False(nextRan);
        Assert.Equal(["Long"], (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => s.Node));
    }

    [Fact]
    public async Task WorkflowTimeout_NodeStillRunningAtTheDeadline_IsCancelledAndTheWorkflowFails()
    {
        var cancelled = false;
        var definition = new WorkflowBuilder("workflow-deadline-running")
            .Timeout(TimeSpan.FromMilliseconds(300))
            .Node("Endless", async (_, cancellationToken) =>
            {
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    cancelled = true;
                    throw;
                }

                return NodeResult.Success();
            })
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("workflow-deadline-running");
        using var timeout = Within.Seconds();

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        Assert.Equal(WorkflowStatus.Failed, workflow.Status);
        Assert.True(cancelled);
        // The default policy would retry, but not past the workflow's deadline.
        Assert.Single(await engine.Store.GetStepsAsync(started.Id, timeout.Token));
    }
}
