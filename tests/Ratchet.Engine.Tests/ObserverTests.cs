using Microsoft.Extensions.Logging;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 3, point 7: in-process observers of every state change; a failing observer never breaks a workflow.</summary>
public sealed class ObserverTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Observers_CompletingWorkflow_HearEveryStateChangeInOrder()
    {
        var observer = new RecordingObserver();
        var definition = new WorkflowBuilder("observed")
            .Node("Fetch", Nodes.Ok()).Then("Flaky")
            .Node("Flaky", Nodes.FailFirst(1)).WithRetry(Nodes.Retry(2, TimeSpan.FromMilliseconds(20))).Then("Review")
            .Approval("Review", "Ship?").Then("Ship")
            .Node("Ship", Nodes.Ok())
            .Build();
        string id;
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition).AddObserver(observer)))
        {
            using var timeout = Within.Seconds();
            id = (await engine.StartAsync("observed", cancellationToken: timeout.Token)).Id;
            await engine.WaitForAsync(id, w => w.Status == WorkflowStatus.Waiting && w.WaitReason == WaitReason.Approval, timeout.Token);
            await engine.ApproveAsync(id, "alice", cancellationToken: timeout.Token);
            await engine.WaitForCompletionAsync(id, timeout.Token);
        }

        // The engine was disposed: every queued event has been delivered.
        var events = observer.For(id).Where(e => e.Kind != WorkflowEventKind.Progress).Select(e => (e.Kind, e.Node, e.Attempt)).ToArray();
        Assert.Equal(
            [
                (WorkflowEventKind.Started, null, null),
                (WorkflowEventKind.NodeStarted, "Fetch", 1),
                (WorkflowEventKind.NodeCompleted, "Fetch", 1),
                (WorkflowEventKind.NodeStarted, "Flaky", 1),
                (WorkflowEventKind.NodeFailed, "Flaky", 1),
                (WorkflowEventKind.RetryScheduled, "Flaky", 2),
                (WorkflowEventKind.NodeStarted, "Flaky", 2),
                (WorkflowEventKind.NodeCompleted, "Flaky", 2),
                (WorkflowEventKind.NodeStarted, "Review", 1),
                (WorkflowEventKind.Waiting, "Review", null),
                (WorkflowEventKind.NodeCompleted, "Review", 1),
                (WorkflowEventKind.NodeStarted, "Ship", 1),
                (WorkflowEventKind.NodeCompleted, "Ship", 1),
                (WorkflowEventKind.Completed, "Ship", null),
            ],
            events);
        Assert.All(observer.For(id), e => Assert.Equal("observed", e.WorkflowType));
        Assert.Equal(WorkflowStatus.Completed, observer.For(id)[^1].Status);
    }

    [Fact]
    public async Task Observers_FailingWorkflow_HearNodeFailedThenFailed()
    {
        var observer = new RecordingObserver();
        var definition = new WorkflowBuilder("observed-failure")
            .Node("Break", (_, _) => throw new InvalidOperationException("broken")).WithRetry(RetryPolicy.None)
            .Build();
        string id;
        await using (var engine = await TestEngines.Builder(_scratch.Database).AddWorkflow(definition).AddObserver(observer).BuildAsync())
        {
            using var timeout = Within.Seconds();
            id = (await engine.StartAsync("observed-failure", cancellationToken: timeout.Token)).Id;
            await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);
        }

        var events = observer.For(id);
        Assert.Equal([WorkflowEventKind.Started, WorkflowEventKind.NodeStarted, WorkflowEventKind.NodeFailed, WorkflowEventKind.Failed], events.Select(e => e.Kind));
        Assert.Equal(("broken", WorkflowStatus.Failed), (events[^1].Error!.Message, events[^1].Status));
        Assert.Equal("broken", events[2].Error!.Message);
    }

    [Fact]
    public async Task Observer_ThatThrows_IsLoggedAndTheWorkflowStillCompletes()
    {
        var loggers = new CapturingLoggerFactory();
        var recorder = new RecordingObserver();
        var definition = new WorkflowBuilder("survives-observer")
            .Node("A", Nodes.Ok()).Then("B")
            .Node("B", Nodes.Ok())
            .Build();
        WorkflowRecord done;
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database)
            .AddWorkflow(definition).AddObserver(new ThrowingObserver()).AddObserver(recorder).UseLoggerFactory(loggers)))
        {
            using var timeout = Within.Seconds();
            var started = await engine.StartAsync("survives-observer", cancellationToken: timeout.Token);
            done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);
        }

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        // The observer after the throwing one still heard everything.
        Assert.Equal(WorkflowEventKind.Completed, recorder.For(done.Id)[^1].Kind);
        var failures = loggers.Entries.Where(e => e.Exception is ObserverBoomException).ToArray();
        Assert.Equal(recorder.For(done.Id).Count, failures.Count(e => e.Message.Contains(done.Id, StringComparison.Ordinal)));
        Assert.All(failures, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.Contains(failures, e => e.Message.Contains(nameof(ThrowingObserver), StringComparison.Ordinal) && e.Message.Contains("Completed", StringComparison.Ordinal));
    }

    private sealed class ThrowingObserver : IWorkflowObserver
    {
        public ValueTask OnEventAsync(WorkflowEvent workflowEvent, CancellationToken cancellationToken) =>
            throw new ObserverBoomException();
    }

    private sealed class ObserverBoomException() : Exception("observer boom");
}
