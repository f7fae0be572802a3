using System.Collections.Concurrent;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 11, point 10: a loop whose exit never holds ends at a limit of node visits, counted from what the store already holds.</summary>
public sealed class VisitLimitTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    /// <summary>Check and Fix forever: Fix's exit ("done") never comes.</summary>
    private static WorkflowBuilder Spin(string name) => new WorkflowBuilder(name)
        .Node("Check", Nodes.Ok()).Then("Fix")
        .Node("Fix", Nodes.Ok()).Then("Check").On("done", WorkflowDefinition.End);

    private static async Task<int> CountAsync(WorkflowEngine engine, string workflowId, string type, CancellationToken cancellationToken) =>
        (await engine.Store.GetEventsAsync(workflowId, cancellationToken: cancellationToken)).Count(e => e.Type == type);

    [Fact]
    public async Task Run_LoopWhoseExitNeverHolds_FailsAfterTheDefinitionsMaxVisitsSayingWhy()
    {
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Spin("spin").MaxVisits(25).Build()));
        using var timeout = Within.Seconds(30);

        var started = await engine.StartAsync("spin", cancellationToken: timeout.Token);
        var failed = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Failed, "visit-limit", "Fix"), (failed.Status, failed.Error?.Type, failed.CurrentNode));
        Assert.StartsWith($"Workflow '{started.Id}' visited 25 nodes, the limit for one run: a loop whose exit never holds?", failed.Error?.Message, StringComparison.Ordinal);
        Assert.Equal(25, (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Count);
        Assert.Equal(26, await CountAsync(engine, started.Id, AuditEventTypes.NodeStarted, timeout.Token));
    }

    [Fact]
    public async Task Run_NoLimitOfItsOwn_StopsAtTheEnginesDefaultOf1000AndARetryGetsAnother()
    {
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Spin("spin").Build()));
        using var timeout = Within.Seconds(120);

        var started = await engine.StartAsync("spin", cancellationToken: timeout.Token);
        var failed = await engine.WaitForCompletionAsync(started.Id, timeout.Token);
        await engine.RetryAsync(started.Id, cancellationToken: timeout.Token);
        var again = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(1000, new RatchetOptions().MaxVisits);
        Assert.Equal((WorkflowStatus.Failed, "visit-limit"), (failed.Status, failed.Error?.Type));
        Assert.Contains("visited 1000 nodes", failed.Error?.Message, StringComparison.Ordinal);
        Assert.Equal((WorkflowStatus.Failed, "visit-limit"), (again.Status, again.Error?.Type));
        Assert.Equal(2000, (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Count);
    }

    [Fact]
    public async Task Run_EngineWideMaxVisits_AppliesToDefinitionsWithoutTheirOwn()
    {
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database)
            .AddWorkflow(Spin("spin").Build()).AddWorkflow(Spin("spin-own").MaxVisits(12).Build()).Configure(o => o.MaxVisits = 7));
        using var timeout = Within.Seconds(30);

        var engineWide = await engine.WaitForCompletionAsync((await engine.StartAsync("spin", cancellationToken: timeout.Token)).Id, timeout.Token);
        var own = await engine.WaitForCompletionAsync((await engine.StartAsync("spin-own", cancellationToken: timeout.Token)).Id, timeout.Token);

        Assert.Equal(7, (await engine.Store.GetStepsAsync(engineWide.Id, timeout.Token)).Count);
        Assert.Equal(12, (await engine.Store.GetStepsAsync(own.Id, timeout.Token)).Count);
        Assert.Contains("MaxVisits is 0", string.Join(' ', new RatchetOptions { MaxVisits = 0 }.Validate()), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Spin("zero").MaxVisits(0));
    }

    [Fact]
    public async Task Run_VisitsSpreadOverManyRunsOfTheRunner_AreCountedFromTheStore()
    {
        // Every round parks for a signal, so each round is claimed afresh: the count cannot live in one runner's memory.
        var definition = new WorkflowBuilder("rounds").MaxVisits(7)
            .Node("Work", Nodes.Ok()).Then("Wait")
            .WaitForSignal("Wait", "again").Then("Work").On("done", WorkflowDefinition.End)
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds(30);
        var started = await engine.StartAsync("rounds", cancellationToken: timeout.Token);

        var signals = 0;
        WorkflowRecord current;
        while ((current = await engine.WaitForAsync(started.Id, w => w.Status != WorkflowStatus.Running, timeout.Token)).Status == WorkflowStatus.Waiting)
        {
            await engine.SignalAsync(started.Id, "again", cancellationToken: timeout.Token);
            signals++;
        }

        Assert.Equal((WorkflowStatus.Failed, "visit-limit", "Wait"), (current.Status, current.Error?.Type, current.CurrentNode));
        Assert.Equal(3, signals);
        Assert.Equal(7, (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Count);
    }

    [Fact]
    public async Task RetryAsync_Twice_AttemptsAndIdempotencyKeysGoOnAndEachRetryGetsTheFullPolicy()
    {
        var keys = new ConcurrentQueue<string>();
        var definition = new WorkflowBuilder("flaky")
            .Node("Call", (context, _) =>
            {
                keys.Enqueue(context.IdempotencyKey);
                throw new InvalidOperationException($"attempt {context.Attempt} fails");
            }).WithRetry(new RetryPolicy { MaxAttempts = 2, InitialDelay = TimeSpan.FromMilliseconds(10), BackoffFactor = 100, Jitter = 0 })
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds(30);
        var started = await engine.StartAsync("flaky", cancellationToken: timeout.Token);
        await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        var retried = await engine.RetryAsync(started.Id, cancellationToken: timeout.Token);
        await engine.WaitForCompletionAsync(started.Id, timeout.Token);
        await engine.RetryAsync(started.Id, "Call", timeout.Token);
        var failed = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Timer, 3), (retried.Status, retried.WaitReason, retried.Attempt));
        Assert.Equal((WorkflowStatus.Failed, "attempt 6 fails"), (failed.Status, failed.Error?.Message));
        Assert.Equal([1, 2, 3, 4, 5, 6], (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => s.Attempt));
        Assert.Equal(Enumerable.Range(1, 6).Select(a => $"{started.Id}/Call/{a}"), keys);

        // Each retry's back-off starts over too: the first wait of the policy (10 ms), not the one after its third try (100 s).
        var scheduled = (await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token)).Where(e => e.Type == AuditEventTypes.RetryScheduled);
        Assert.Equal([(2, "10"), (4, "10"), (6, "10")], scheduled.Select(e => (e.Attempt!.Value, e.Payload!.Value.GetProperty("delayMs").GetString()!)));
    }
}
