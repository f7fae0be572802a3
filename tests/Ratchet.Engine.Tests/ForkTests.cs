using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 13, point 6: fork from a node, cancel cascading in one commit, retry of cancelled workflows and onto a newer definition.</summary>
public sealed class ForkTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    /// <summary>
    /// Plan → Build → Test (→ Report with <paramref name="report"/>, which changes the version), where Build and Test
    /// record what they read and Test fails while <paramref name="testFails"/> says so.
    /// </summary>
    private static WorkflowDefinition Pipeline(ConcurrentQueue<string> ran, Func<bool>? testFails = null, string buildOutput = "built", bool report = false)
    {
        var builder = new WorkflowBuilder("pipeline")
            .Node("Plan", (context, _) =>
            {
                ran.Enqueue("Plan");
                return Task.FromResult(NodeResult.Success(new { steps = context.Input!.Value.GetProperty("steps").GetInt32() }));
            }).Then("Build")
            .Node("Build", (context, _) =>
            {
                ran.Enqueue($"Build:{context.Artifacts["Plan"].GetProperty("steps").GetInt32()}");
                return Task.FromResult(NodeResult.Success(buildOutput));
            }).Then("Test")
            .Node("Test", (context, _) =>
            {
                ran.Enqueue($"Test:{context.Artifacts["Build"].GetString()}");
                return testFails?.Invoke() == true ? throw new InvalidOperationException("tests failed") : Task.FromResult(NodeResult.Success("green"));
            }).WithRetry(RetryPolicy.None);
        if (report)
        {
            builder.Then("Report").Node("Report", (_, _) =>
            {
                ran.Enqueue("Report");
                return Task.FromResult(NodeResult.Success());
            });
        }

        return builder.Build();
    }

    [Fact]
    public async Task ForkAsync_FromAMiddleNode_CopiesTheInputAndTheStepsBeforeItAndRunsOnFromThere()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var ran = new ConcurrentQueue<string>();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, clock).AddWorkflow(Pipeline(ran)));
        using var timeout = Within.Seconds();
        var source = await engine.StartAsync("pipeline", new { steps = 3 }, cancellationToken: timeout.Token);
        var sourceDone = await engine.WaitForCompletionAsync(source.Id, timeout.Token);
        ran.Clear();

        var fork = await engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Build" }, timeout.Token);
        var done = await engine.WaitForCompletionAsync(fork.Id, timeout.Token);

        Assert.NotEqual(source.Id, fork.Id);
        Assert.Equal((WorkflowStatus.Pending, "Build", sourceDone.DefinitionVersion), (fork.Status, fork.CurrentNode, fork.DefinitionVersion));
        Assert.Equal(["Plan"], fork.Artifacts.Keys);
        Assert.Equal(3, done.Input!.Value.GetProperty("steps").GetInt32());
        Assert.Equal(["Build:3", "Test:built"], ran);
        Assert.Equal((WorkflowStatus.Completed, "green"), (done.Status, done.Artifacts["Test"].GetString()));
        Assert.Equal(["Plan", "Build", "Test"], (await engine.Store.GetStepsAsync(fork.Id, timeout.Token)).Select(s => s.Node));
        var copied = (await engine.Store.GetStepsAsync(fork.Id, timeout.Token))[0];
        var original = (await engine.Store.GetStepsAsync(source.Id, timeout.Token))[0];
        Assert.Equal((original.Output!.Value.GetRawText(), original.StartedAt, original.FinishedAt), (copied.Output!.Value.GetRawText(), copied.StartedAt, copied.FinishedAt));
        var forkedFrom = Assert.Single(await engine.Store.GetEventsAsync(fork.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.ForkedFrom);
        Assert.Equal((source.Id, "Build"), (forkedFrom.Payload!.Value.GetProperty("id").GetString(), forkedFrom.Payload.Value.GetProperty("node").GetString()));
        var forked = Assert.Single(await engine.Store.GetEventsAsync(source.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Forked);
        Assert.Equal((fork.Id, "Build"), (forked.Payload!.Value.GetProperty("id").GetString(), forked.Payload.Value.GetProperty("node").GetString()));
        Assert.Equal((WorkflowStatus.Completed, sourceDone.Version), ((await engine.Store.GetRequiredWorkflowAsync(source.Id, timeout.Token)).Status, sourceDone.Version));
    }

    [Fact]
    public async Task ForkAsync_SameIdAgain_ReturnsTheFirstForkAndAnIdTakenOtherwiseIsRefused()
    {
        var ran = new ConcurrentQueue<string>();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, new FakeTimeProvider(TestClock.Start)).AddWorkflow(Pipeline(ran)));
        using var timeout = Within.Seconds();
        var source = await engine.StartAsync("pipeline", new { steps = 1 }, cancellationToken: timeout.Token);
        await engine.WaitForCompletionAsync(source.Id, timeout.Token);
        var other = await engine.StartAsync("pipeline", new { steps = 2 }, new StartOptions { Id = "other" }, timeout.Token);
        await engine.WaitForCompletionAsync(other.Id, timeout.Token);

        var first = await engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Test", Id = "try-2" }, timeout.Token);
        var again = await engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Test", Id = "try-2" }, timeout.Token);
        var otherNode = await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(() => engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Build", Id = "try-2" }, timeout.Token));
        var notAFork = await Assert.ThrowsAsync<WorkflowAlreadyExistsException>(() => engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Test", Id = "other" }, timeout.Token));

        Assert.Equal(("try-2", first.CreatedAt), (again.Id, again.CreatedAt));
        Assert.Contains("not a fork of", otherNode.Message, StringComparison.Ordinal);
        Assert.Equal("other", notAFork.WorkflowId);
        Assert.Single(await engine.Store.GetEventsAsync(source.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Forked);
        Assert.Equal(["Plan", "Build"], (await engine.Store.GetStepsAsync("try-2", timeout.Token)).Select(s => s.Node).Take(2));
    }

    [Fact]
    public async Task ForkAsync_UnknownOrUnreachedNode_IsRefusedAndCreatesNothing()
    {
        var ran = new ConcurrentQueue<string>();
        var definition = new WorkflowBuilder("gate")
            .Node("Plan", Nodes.Ok("p")).Then("Review")
            .Approval("Review", "Go on?").Then("Ship")
            .Node("Ship", Nodes.Ok())
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, new FakeTimeProvider(TestClock.Start)).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var source = await engine.StartAsync("gate", cancellationToken: timeout.Token);
        await engine.WaitForAsync(source.Id, w => w.WaitReason == WaitReason.Approval, timeout.Token);

        var unknown = await Assert.ThrowsAsync<UnknownNodeException>(() => engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Deploy" }, timeout.Token));
        var unreached = await Assert.ThrowsAsync<NodeNotReachedException>(() => engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Ship" }, timeout.Token));
        var missing = await Assert.ThrowsAsync<WorkflowNotFoundException>(() => engine.ForkAsync("nope", new ForkOptions { FromNode = "Plan" }, timeout.Token));

        Assert.Equal("Deploy", unknown.Node);
        Assert.Equal(("node-not-reached", source.Id, "Ship"), (unreached.ErrorCode, unreached.WorkflowId, unreached.Node));
        Assert.Equal("nope", missing.WorkflowId);
        Assert.Single((await engine.Store.ListWorkflowsAsync(new WorkflowQuery(), timeout.Token)).Items);
        Assert.DoesNotContain(await engine.Store.GetEventsAsync(source.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Forked);
    }

    [Fact]
    public async Task ForkAsync_ActiveSource_CopiesItsHistorySoFarAndLeavesItWaiting()
    {
        var definition = new WorkflowBuilder("gate")
            .Node("Plan", Nodes.Ok("p")).Then("Review")
            .Approval("Review", "Go on?").Then("Ship")
            .Node("Ship", Nodes.Ok())
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, new FakeTimeProvider(TestClock.Start)).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var source = await engine.StartAsync("gate", cancellationToken: timeout.Token);
        var waiting = await engine.WaitForAsync(source.Id, w => w.WaitReason == WaitReason.Approval, timeout.Token);

        var fork = await engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Review" }, timeout.Token);
        var forkWaits = await engine.WaitForAsync(fork.Id, w => w.WaitReason == WaitReason.Approval, timeout.Token);
        await engine.ApproveAsync(fork.Id, "ann", cancellationToken: timeout.Token);
        var forkDone = await engine.WaitForCompletionAsync(fork.Id, timeout.Token);

        Assert.Equal("p", forkWaits.Artifacts["Plan"].GetString());
        Assert.Equal(WorkflowStatus.Completed, forkDone.Status);
        var stillWaiting = await engine.Store.GetRequiredWorkflowAsync(source.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Waiting, WaitReason.Approval, waiting.Version), (stillWaiting.Status, stillWaiting.WaitReason, stillWaiting.Version));
    }

    [Fact]
    public async Task ForkAsync_LoopedNode_CopiesTheHistoryBeforeItsLastVisit()
    {
        var visits = 0;
        var definition = new WorkflowBuilder("loop")
            .Node("Draft", (_, _) => Task.FromResult(NodeResult.Success(Interlocked.Increment(ref visits)))).Then("Check")
            .Node("Check", (context, _) => Task.FromResult(context.Artifacts["Draft"].GetInt32() < 2 ? NodeResult.WithOutcome("again") : NodeResult.Success()))
                .Then(WorkflowDefinition.End).On("again", "Draft")
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, new FakeTimeProvider(TestClock.Start)).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var source = await engine.StartAsync("loop", cancellationToken: timeout.Token);
        await engine.WaitForCompletionAsync(source.Id, timeout.Token);

        var fork = await engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Check" }, timeout.Token);

        Assert.Equal(["Draft", "Check", "Draft"], (await engine.Store.GetStepsAsync(fork.Id, timeout.Token)).Select(s => s.Node));
        Assert.Equal(2, fork.Artifacts["Draft"].GetInt32());
    }

    /// <summary>
    /// A pipeline run to its failure on version 1 by one engine, then a second engine on the same file that also knows
    /// version 2 (a Report node more) and version 3 (none of the pipeline's nodes).
    /// </summary>
    private async Task<(WorkflowEngine Engine, string Id, ConcurrentQueue<string> Ran, WorkflowDefinition V1, WorkflowDefinition V2, WorkflowDefinition V3)> FailedOnVersionOneAsync(CancellationToken cancellationToken)
    {
        var ran = new ConcurrentQueue<string>();
        var v1 = Pipeline(ran, testFails: () => true);
        var v2 = Pipeline(ran, buildOutput: "built-v2", report: true);
        var v3 = new WorkflowBuilder("pipeline").Node("Only", Nodes.Ok()).Build();
        string id;
        await using (var first = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, new FakeTimeProvider(TestClock.Start)).AddWorkflow(v1)))
        {
            id = (await first.StartAsync("pipeline", new { steps = 2 }, cancellationToken: cancellationToken)).Id;
            Assert.Equal(WorkflowStatus.Failed, (await first.WaitForCompletionAsync(id, cancellationToken)).Status);
        }

        Assert.NotEqual(v1.Version, v2.Version);
        var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, new FakeTimeProvider(TestClock.Start))
            .AddWorkflow(v1).AddWorkflow(v3).AddWorkflow(v2));
        ran.Clear();
        return (engine, id, ran, v1, v2, v3);
    }

    [Fact]
    public async Task ForkAsync_OntoANewerDefinition_RunsItAndAuditsBothVersionsAndANewerDefinitionWithoutTheNodeIsRefused()
    {
        using var timeout = Within.Seconds();
        var (engine, sourceId, ran, v1, v2, v3) = await FailedOnVersionOneAsync(timeout.Token);
        await using var _ = engine;

        var refused = await Assert.ThrowsAsync<UnknownNodeException>(() =>
            engine.ForkAsync(sourceId, new ForkOptions { FromNode = "Build", DefinitionVersion = v3.Version }, timeout.Token));
        var fork = await engine.ForkAsync(sourceId, new ForkOptions { FromNode = "Build", DefinitionVersion = v2.Version }, timeout.Token);
        var done = await engine.WaitForCompletionAsync(fork.Id, timeout.Token);

        Assert.Equal(v3.Version, refused.Version);
        Assert.Equal((WorkflowStatus.Completed, v2.Version), (done.Status, done.DefinitionVersion));
        Assert.Equal(["Build:2", "Test:built-v2", "Report"], ran);
        var changed = Assert.Single(await engine.Store.GetEventsAsync(fork.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.DefinitionChanged);
        Assert.Equal((v1.Version, v2.Version), (changed.Payload!.Value.GetProperty("from").GetString(), changed.Payload.Value.GetProperty("to").GetString()));
        Assert.Single((await engine.Store.ListWorkflowsAsync(new WorkflowQuery(), timeout.Token)).Items, w => w.Id != sourceId);
    }

    [Fact]
    public async Task RetryAsync_OntoANewerDefinition_RunsTheRestOnItAuditedAndOneWithoutTheNodeIsRefused()
    {
        using var timeout = Within.Seconds();
        var (engine, id, ran, v1, v2, v3) = await FailedOnVersionOneAsync(timeout.Token);
        await using var _ = engine;
        var failed = await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token);
        ran.Clear();

        await Assert.ThrowsAsync<UnknownNodeException>(() => engine.RetryAsync(id, new RetryOptions { DefinitionVersion = v3.Version }, timeout.Token));
        await Assert.ThrowsAsync<ArgumentException>(() => engine.RetryAsync(id, new RetryOptions { DefinitionVersion = "0000" }, timeout.Token));
        Assert.Equal(failed.Version, (await engine.Store.GetRequiredWorkflowAsync(id, timeout.Token)).Version);
        await engine.RetryAsync(id, new RetryOptions { FromNode = "Build", DefinitionVersion = v2.Version }, timeout.Token);
        var done = await engine.WaitForCompletionAsync(id, timeout.Token);

        Assert.Equal((WorkflowStatus.Completed, v2.Version), (done.Status, done.DefinitionVersion));
        Assert.Equal(["Build:2", "Test:built-v2", "Report"], ran);
        var changed = Assert.Single(await engine.Store.GetEventsAsync(id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.DefinitionChanged);
        Assert.Equal((v1.Version, v2.Version, "Build"), (changed.Payload!.Value.GetProperty("from").GetString(), changed.Payload.Value.GetProperty("to").GetString(), changed.Node));
    }

    [Fact]
    public async Task RetryAsync_CancelledWorkflow_RunsAgainFromTheNodeItWasCancelledAt()
    {
        var definition = new WorkflowBuilder("gate")
            .Node("Plan", Nodes.Ok("p")).Then("Review")
            .Approval("Review", "Go on?").Then("Ship")
            .Node("Ship", Nodes.Ok("shipped"))
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, new FakeTimeProvider(TestClock.Start)).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("gate", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.WaitReason == WaitReason.Approval, timeout.Token);
        await engine.CancelAsync(started.Id, "not now", timeout.Token);

        var retried = await engine.RetryAsync(started.Id, cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.WaitReason == WaitReason.Approval, timeout.Token);
        await engine.ApproveAsync(started.Id, "ann", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal("Review", retried.CurrentNode);
        Assert.Equal((WorkflowStatus.Completed, "shipped"), (done.Status, done.Artifacts["Ship"].GetString()));
        var retriedEvent = Assert.Single(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Retried);
        Assert.Equal(nameof(WorkflowStatus.Cancelled), retriedEvent.Payload!.Value.GetProperty("previousStatus").GetString());
    }

    [Fact]
    public async Task ForkAsync_CancelledSource_Forks()
    {
        var definition = new WorkflowBuilder("gate")
            .Node("Plan", Nodes.Ok("p")).Then("Review")
            .Approval("Review", "Go on?").Then("Ship")
            .Node("Ship", Nodes.Ok())
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, new FakeTimeProvider(TestClock.Start)).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var source = await engine.StartAsync("gate", cancellationToken: timeout.Token);
        await engine.WaitForAsync(source.Id, w => w.WaitReason == WaitReason.Approval, timeout.Token);
        await engine.CancelAsync(source.Id, "wrong plan", timeout.Token);

        var fork = await engine.ForkAsync(source.Id, new ForkOptions { FromNode = "Plan" }, timeout.Token);
        var waits = await engine.WaitForAsync(fork.Id, w => w.WaitReason == WaitReason.Approval, timeout.Token);

        Assert.Empty(fork.Artifacts);
        Assert.Equal("p", waits.Artifacts["Plan"].GetString());
    }

    [Fact]
    public async Task CancelAsync_ParentWithChildAndGrandchild_CancelsAllThreeInOneCommit()
    {
        var grandchild = new WorkflowBuilder("leaf").WaitForSignal("Wait", "go").Build();
        var child = new WorkflowBuilder("middle").SubWorkflow("RunLeaf", "leaf").Build();
        var parent = new WorkflowBuilder("root").SubWorkflow("RunMiddle", "middle").Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, new FakeTimeProvider(TestClock.Start))
            .AddWorkflow(grandchild).AddWorkflow(child).AddWorkflow(parent));
        using var timeout = Within.Seconds();
        var root = await engine.StartAsync("root", cancellationToken: timeout.Token);
        var middleId = (await engine.WaitForAsync(root.Id, w => w.WaitReason == WaitReason.Child, timeout.Token)).WaitDetail!;
        var leafId = (await engine.WaitForAsync(middleId, w => w.WaitReason == WaitReason.Child, timeout.Token)).WaitDetail!;
        await engine.WaitForAsync(leafId, w => w.WaitReason == WaitReason.Signal, timeout.Token);

        var cancelled = await engine.CancelAsync(root.Id, "scope changed", timeout.Token);

        // Read at once: nothing was left for a later commit.
        var middle = await engine.Store.GetRequiredWorkflowAsync(middleId, timeout.Token);
        var leaf = await engine.Store.GetRequiredWorkflowAsync(leafId, timeout.Token);
        Assert.Equal([WorkflowStatus.Cancelled, WorkflowStatus.Cancelled, WorkflowStatus.Cancelled], [cancelled.Status, middle.Status, leaf.Status]);
        Assert.Equal(($"parent {root.Id} was cancelled", $"parent {middleId} was cancelled"), (middle.Error!.Message, leaf.Error!.Message));
        Assert.Equal([cancelled.UpdatedAt, cancelled.UpdatedAt], [middle.CompletedAt!.Value, leaf.CompletedAt!.Value]);
        foreach (var id in new[] { middleId, leafId })
        {
            var status = Assert.Single(await engine.Store.GetEventsAsync(id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.StatusChanged && e.Payload!.Value.GetProperty("to").GetString() == "Cancelled");
            Assert.StartsWith("parent ", status.Payload!.Value.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.CancelAsync(middleId, cancellationToken: timeout.Token));
    }
}
