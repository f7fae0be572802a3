using Ratchet.Engine;
using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>
/// Fork and cancel, which commit across workflows: a fork creates a workflow with copied steps and links it to its
/// source in one change set; a cancel ends a workflow and its descendants in one change set. Run through the engine,
/// so every store is shown to hold what the engine writes.
/// </summary>
public abstract class ForkConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    private readonly FakeTimeProviderWithSystemTimers _clock = new(TestClock.Start);

    private static WorkflowDefinition Pipeline() => new WorkflowBuilder("fork-pipeline")
        .Node("Plan", (context, _) => Task.FromResult(NodeResult.Success(new { steps = context.Input!.Value.GetProperty("steps").GetInt32() }))).Then("Build")
        .Node("Build", (context, _) => Task.FromResult(NodeResult.Success($"built {context.Artifacts["Plan"].GetProperty("steps").GetInt32()}"))).Then("Test")
        .Node("Test", (context, _) => Task.FromResult(NodeResult.Success($"tested {context.Artifacts["Build"].GetString()}")))
        .Build();

    private async Task<WorkflowEngine> EngineAsync(IRatchetStore store, params WorkflowDefinition[] definitions)
    {
        var builder = new RatchetBuilder().UseStore(store).UseClock(_clock).Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(50));
        foreach (var definition in definitions)
        {
            builder.AddWorkflow(definition);
        }

        return await builder.BuildAsync();
    }

    [StoreFact]
    public async Task Fork_FromAMiddleNode_CopiesTheInputTheStepsBeforeItAndTheirOutputsAndLinksBothWays()
    {
        var store = await CreateStoreAsync(_clock);
        await using var engine = await EngineAsync(store, Pipeline());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var source = await engine.StartAsync("fork-pipeline", new { steps = 4 }, cancellationToken: timeout.Token);
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);
        var sourceSteps = await store.GetStepsAsync(source.Id, timeout.Token);

        var fork = await engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Test", Id = "fork-1" }, timeout.Token);
        var stored = await store.GetRequiredWorkflowAsync("fork-1", timeout.Token);

        Assert.Equal((WorkflowStatus.Pending, "Test", 1L), (stored.Status, stored.CurrentNode, stored.Version));
        Assert.Equal(4, stored.Input!.Value.GetProperty("steps").GetInt32());
        Assert.Equal(["Build", "Plan"], stored.Artifacts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("built 4", stored.Artifacts["Build"].GetString());
        var copied = await store.GetStepsAsync("fork-1", timeout.Token);
        Assert.Equal([(1L, "Plan"), (2L, "Build")], copied.Select(s => (s.Sequence, s.Node)));
        Assert.Equal(sourceSteps.Take(2).Select(s => (s.Node, s.Attempt, s.Outcome, s.Output!.Value.GetRawText(), s.StartedAt, s.FinishedAt)),
            copied.Select(s => (s.Node, s.Attempt, s.Outcome, s.Output!.Value.GetRawText(), s.StartedAt, s.FinishedAt)));
        var forkEvents = await store.GetEventsAsync("fork-1", cancellationToken: timeout.Token);
        Assert.Equal([AuditEventTypes.Created, AuditEventTypes.ForkedFrom], forkEvents.Select(e => e.Type));
        Assert.Equal(source.Id, forkEvents[1].Payload!.Value.GetProperty("id").GetString());
        var forked = (await store.GetEventsAsync(source.Id, cancellationToken: timeout.Token))[^1];
        Assert.Equal((AuditEventTypes.Forked, "fork-1", "Test"), (forked.Type, forked.Payload!.Value.GetProperty("id").GetString(), forked.Node));
        Assert.Equal(fork.CreatedAt, stored.CreatedAt);

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);
        var done = await store.GetRequiredWorkflowAsync("fork-1", timeout.Token);
        Assert.Equal((WorkflowStatus.Completed, "tested built 4"), (done.Status, done.Artifacts["Test"].GetString()));
        Assert.Equal(["Plan", "Build", "Test"], (await store.GetStepsAsync("fork-1", timeout.Token)).Select(s => s.Node));
    }

    [StoreFact]
    public async Task Fork_ChangeSetWhoseNewIdIsTaken_RefusedWholeAndTheSourceGetsNothing()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "source");
        await InsertAsync(store, "taken");
        var sourceEvents = (await store.GetEventsAsync("source")).Count;

        // The shape of a fork's commit: create the new workflow with copied steps and its link, and the source's event.
        await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(() => store.CommitAsync(new ChangeSet()
            .CreateWorkflow(NewWorkflow("taken"))
            .AppendStep(NewStep("taken", "Plan", Json("1")))
            .AppendEvent(NewEvent("taken", AuditEventTypes.ForkedFrom))
            .AppendEvent(NewEvent("source", AuditEventTypes.Forked))));

        Assert.Empty(await store.GetStepsAsync("taken"));
        Assert.Equal(sourceEvents, (await store.GetEventsAsync("source")).Count);
        Assert.Equal(1L, (await store.GetRequiredWorkflowAsync("taken")).Version);
    }

    [StoreFact]
    public async Task Cancel_ParentChildAndGrandchild_AllCancelledByTheOneCommit()
    {
        var store = await CreateStoreAsync(_clock);
        await using var engine = await EngineAsync(store,
            new WorkflowBuilder("fork-leaf").WaitForSignal("Wait", "go").Build(),
            new WorkflowBuilder("fork-middle").SubWorkflow("RunLeaf", "fork-leaf").Build(),
            new WorkflowBuilder("fork-root").SubWorkflow("RunMiddle", "fork-middle").Build());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var root = await engine.StartAsync("fork-root", cancellationToken: timeout.Token);
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);
        var middleId = (await store.GetRequiredWorkflowAsync(root.Id, timeout.Token)).WaitDetail!;
        var leafId = (await store.GetRequiredWorkflowAsync(middleId, timeout.Token)).WaitDetail!;
        Assert.Equal(WaitReason.Signal, (await store.GetRequiredWorkflowAsync(leafId, timeout.Token)).WaitReason);

        await engine.CancelAsync(root.Id, "scope changed", timeout.Token);

        foreach (var id in new[] { root.Id, middleId, leafId })
        {
            var workflow = await store.GetRequiredWorkflowAsync(id, timeout.Token);
            Assert.Equal((WorkflowStatus.Cancelled, (string?)null), (workflow.Status, workflow.LeaseOwner));
        }

        Assert.Empty((await store.ListWorkflowsAsync(WorkflowQuery.Active, timeout.Token)).Items);
    }
}
