using Ratchet.Conformance;

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
        var clock = new ManualTimeProvider();
        var (definition, started, stopped) = Blocking("taken");
        using var timeout = Within.Seconds();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, clock, definition);
        var runner = engine.CreateRunner();
        await runner.StartAsync(timeout.Token);
        var id = (await engine.StartAsync("taken", cancellationToken: timeout.Token)).Id;
        await started.Task.WaitAsync(timeout.Token);

        // Another worker takes it over (as it would once the lease lapsed): the claim moves the version on.
        Assert.True(await engine.Store.ReleaseLeaseAsync(id, runner.Owner, timeout.Token));
        var taken = await engine.Store.ClaimWorkflowAsync(id, "other-worker", TimeSpan.FromMinutes(10), timeout.Token);
        Assert.NotNull(taken);
        await AdvanceUntilAsync(clock, stopped.Task, timeout.Token);
        await runner.StopAsync(timeout.Token);

        var after = await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        Assert.Equal((WorkflowStatus.Running, 1, "other-worker", taken.Version), (after.Status, after.Attempt, after.LeaseOwner, after.Version));
        Assert.Empty(await engine.Store.GetStepsAsync(id, timeout.Token));
    }

    [Fact]
    public async Task Cancel_ThroughAnotherEngineWhileTheNodeRuns_StopsTheNodeThenReleasesTheLease()
    {
        var clock = new ManualTimeProvider();
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

    /// <summary>A one-node definition whose node runs until it is cancelled, and says when it started and when it was stopped.</summary>
    private static (WorkflowDefinition Definition, TaskCompletionSource Started, TaskCompletionSource Stopped) Blocking(string name)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var definition = new WorkflowBuilder(name)
            .Node("Work", async (_, cancellationToken) =>
            {
                started.TrySetResult();
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

    /// <summary>
    /// Moves the clock on a second at a time (at most five, well inside the 30 s lease, so the lease itself never runs
    /// out) until <paramref name="done"/>: the runner checks its nodes on that clock.
    /// </summary>
    private static async Task AdvanceUntilAsync(ManualTimeProvider clock, Task done, CancellationToken cancellationToken)
    {
        for (var second = 0; second < 5 && !done.IsCompleted; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(done, Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken));
        }

        await done.WaitAsync(cancellationToken);
    }
}
