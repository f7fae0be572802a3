using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Sqlite;

namespace Ratchet.Engine.Tests;

/// <summary>
/// A runner stops a node that is no longer its own to run: a lease taken over by another worker (its result is never
/// committed), or a workflow cancelled through another engine on the same store (the node stops and the lease, left to
/// the runner until then, is released). Time is the test's clock; the store is one SQLite file shared by two engines,
/// as by two processes.
/// </summary>
public sealed class OwnershipTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Runner_LeaseTakenOverWhileTheNodeRuns_StopsTheNodeAndCommitsNothing()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var (definition, started, stopped) = Blocking("taken");
        using var timeout = Within.Seconds();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, clock, definition);
        var runner = engine.CreateRunner();
        await runner.StartAsync(timeout.Token);
        var id = (await engine.StartAsync("taken", cancellationToken: timeout.Token)).Id;
        await started.Task.WaitAsync(timeout.Token);

        // Another worker takes it over (as it would once the lease lapsed): the claim moves the version on. The
        // runner's own poll may claim it back between the release and the claim (it then fences its running
        // execution); release again until the other worker holds it.
        WorkflowRecord? taken = null;
        while (taken is null)
        {
            var holder = (await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token)).LeaseOwner;
            Assert.Equal(runner.Owner, holder);
            Assert.True(await engine.Store.ReleaseLeaseAsync(id, runner.Owner, timeout.Token));
            taken = await engine.Store.ClaimWorkflowAsync(id, "other-worker", TimeSpan.FromMinutes(10), timeout.Token);
        }

        await AdvanceUntilAsync(clock, stopped.Task, timeout.Token);
        await runner.StopAsync(timeout.Token);

        var after = await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        Assert.Equal((WorkflowStatus.Running, 1, "other-worker", taken.Version), (after.Status, after.Attempt, after.LeaseOwner, after.Version));
        Assert.Empty(await engine.Store.GetStepsAsync(id, timeout.Token));
    }

    [Fact]
    public async Task Cancel_ThroughAnotherEngineWhileTheNodeRuns_StopsTheNodeThenReleasesTheLease()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var (definition, started, stopped) = Blocking("cancelled");
        using var timeout = Within.Seconds();
        await using var running = await TestEngines.BuildAsync(_scratch.Database, clock, definition);
        await using var elsewhere = await TestEngines.BuildAsync(_scratch.Database, clock, definition);
        var runner = running.CreateRunner();
        await runner.StartAsync(timeout.Token);
        var id = (await running.StartAsync("cancelled", cancellationToken: timeout.Token)).Id;
        await started.Task.WaitAsync(timeout.Token);

        var cancelled = await elsewhere.CancelAsync(id, "stop it", timeout.Token);

        // The runner still holds the lease until it has stopped the node: the canceller can wait for that.
        Assert.Equal((WorkflowStatus.Cancelled, runner.Owner), (cancelled.Status, cancelled.LeaseOwner));
        await AdvanceUntilAsync(clock, stopped.Task, timeout.Token);
        while ((await running.Store.GetRequiredWorkflowAsync(id, timeout.Token)).LeaseOwner is not null)
        {
            // Released by the runner's task right after the node stopped; bounded by the test's timeout.
            await Task.Delay(TimeSpan.FromMilliseconds(20), timeout.Token);
        }
        await runner.StopAsync(timeout.Token);

        var after = await running.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        Assert.Equal(WorkflowStatus.Cancelled, after.Status);
        Assert.Equal([StepOutcome.Cancelled], (await running.Store.GetStepsAsync(id, timeout.Token)).Select(s => s.Outcome));
    }

    [Fact]
    public async Task Runner_LeaseNotRenewedBeforeItLapses_StopsTheNodeAndCommitsNothing()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var (definition, started, stopped) = Blocking("unrenewed");
        using var timeout = Within.Seconds(30);
        await using var engine = await new RatchetBuilder()
            .UseSqlite(_scratch.Database, o =>
            {
                o.TimeProvider = clock;
                o.BusyTimeout = TimeSpan.FromMilliseconds(100);
            })
            .UseClock(clock)
            .Configure(o => o.PollInterval = TestEngines.FastPoll)
            .AddWorkflow(definition)
            .BuildAsync(timeout.Token);
        var runner = engine.CreateRunner();
        await runner.StartAsync(timeout.Token);
        var id = (await engine.StartAsync("unrenewed", cancellationToken: timeout.Token)).Id;
        await started.Task.WaitAsync(timeout.Token);

        // Another process holds the store's write lock: nothing can be written, so no lease can be renewed. Once the
        // lease would have lapsed, another worker may run the workflow: this one must stop its node.
        await using (var blocker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_scratch.Database}"))
        {
            await blocker.OpenAsync(timeout.Token);
            await using (var begin = blocker.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE";
                await begin.ExecuteNonQueryAsync(timeout.Token);
            }

            for (var second = 0; second < 40 && !stopped.Task.IsCompleted; second++)
            {
                clock.Advance(TimeSpan.FromSeconds(1));
                await Task.WhenAny(stopped.Task, Task.Delay(TimeSpan.FromMilliseconds(150), timeout.Token));
            }

            Assert.True(stopped.Task.IsCompleted, "the node ran on after its lease lapsed unrenewed.");
            Assert.True(clock.GetUtcNow() - (await started.Task).At >= TimeSpan.FromSeconds(20), "the node was stopped before its lease was near its end.");
            await using var rollback = blocker.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            await rollback.ExecuteNonQueryAsync(timeout.Token);
        }

        await runner.StopAsync(timeout.Token);
        var after = await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        Assert.Equal((WorkflowStatus.Running, 1), (after.Status, after.Attempt));
        Assert.Empty(await engine.Store.GetStepsAsync(id, timeout.Token));
    }

    /// <summary>A one-node definition whose node runs until it is cancelled, and says when it started and when it was stopped.</summary>
    private static (WorkflowDefinition Definition, TaskCompletionSource<NodeStart> Started, TaskCompletionSource Stopped) Blocking(string name)
    {
        var started = new TaskCompletionSource<NodeStart>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = new WorkflowBuilder(name)
            .Node("Work", async (context, cancellationToken) =>
            {
                started.TrySetResult(new NodeStart(context.Clock.GetUtcNow()));
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    stopped.TrySetResult();
                    throw;
                }

                return NodeResult.Success();
            })
            .Build();
        return (definition, started, stopped);
    }

    private sealed record NodeStart(DateTimeOffset At);

    /// <summary>
    /// Moves the clock on a second at a time (at most five, well inside the 30 s lease, so the lease itself never runs
    /// out) until <paramref name="done"/>: the runner checks its nodes on that clock.
    /// </summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider clock, Task done, CancellationToken cancellationToken)
    {
        for (var second = 0; second < 5 && !done.IsCompleted; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(done, Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken));
        }

        await done.WaitAsync(cancellationToken);
    }
}
