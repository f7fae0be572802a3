
namespace Ratchet.Engine.Tests;

/// <summary>Issue 3, point 5: a node that runs a child workflow and waits for it.</summary>
public sealed class SubWorkflowTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task SubWorkflow_ChildCompletes_ItsOutputBecomesTheParentNodesArtifact()
    {
        int? sumSeenByParent = null;
        var child = new WorkflowBuilder("adder")
            .Node("Parse", (context, _) => Task.FromResult(NodeResult.Success(context.GetInput<int[]>()))).Then("Add")
            .Node("Add", (context, _) => Task.FromResult(NodeResult.Success(new Sum(context.Get<int[]>("Parse").Sum()))))
            .Build();
        var parent = new WorkflowBuilder("calculator")
            .Node("Prepare", Nodes.Ok(new[] { 1, 2, 3, 4 })).Then("Compute")
            .SubWorkflow("Compute", "adder", context => context.Get<int[]>("Prepare")).Then("Report")
            .Node("Report", (context, _) =>
            {
                sumSeenByParent = context.Get<Sum>("Compute").Total;
                return Task.FromResult(NodeResult.Success());
            })
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(child).AddWorkflow(parent));
        using var timeout = Within.Seconds();

        var started = await engine.StartAsync("calculator", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(10, sumSeenByParent);
        Assert.Equal(10, done.Artifacts["Compute"].GetProperty("total").GetInt32());
        var children = (await engine.Store.ListWorkflowsAsync(new WorkflowQuery { ParentId = started.Id }, timeout.Token)).Items;
        var childRecord = Assert.Single(children);
        Assert.Equal(("adder", WorkflowStatus.Completed), (childRecord.Type, childRecord.Status));
        Assert.Equal([1, 2, 3, 4], childRecord.Input!.Value.EnumerateArray().Select(e => e.GetInt32()));
        var waiting = Assert.Single(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Waiting);
        Assert.Equal(childRecord.Id, waiting.Payload!.Value.GetProperty("child").GetString());
    }

    [Fact]
    public async Task SubWorkflow_ChildFails_ParentNodeFailsAndFollowsItsFailurePath()
    {
        WorkflowError? errorSeenByHandler = null;
        var child = new WorkflowBuilder("doomed")
            .Node("Explode", (_, _) => throw new InvalidOperationException("child blew up")).WithRetry(RetryPolicy.None)
            .Build();
        var parent = new WorkflowBuilder("guardian")
            .SubWorkflow("RunChild", "doomed").WithRetry(RetryPolicy.None).Then("Celebrate").OnFailure("Handle")
            .Node("Celebrate", Nodes.Ok())
            .Node("Handle", (context, _) =>
            {
                errorSeenByHandler = context.LastError;
                return Task.FromResult(NodeResult.Success());
            }).FailsWorkflow()
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(child).AddWorkflow(parent));
        using var timeout = Within.Seconds();

        var started = await engine.StartAsync("guardian", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Failed, "Handle"), (done.Status, done.CurrentNode));
        Assert.Equal("child-failed", errorSeenByHandler!.Type);
        Assert.Contains("child blew up", errorSeenByHandler.Message);
        var childRecord = Assert.Single((await engine.Store.ListWorkflowsAsync(new WorkflowQuery { ParentId = started.Id }, timeout.Token)).Items);
        Assert.Equal(WorkflowStatus.Failed, childRecord.Status);
        Assert.Contains(childRecord.Id, errorSeenByHandler.Message);
        Assert.Equal([("RunChild", StepOutcome.Failed), ("Handle", StepOutcome.Completed)],
            (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => (s.Node, s.Outcome)));
    }

    [Fact]
    public async Task SubWorkflow_ChildFails_ParentNodeRetriesWithANewChild()
    {
        var childRuns = 0;
        var child = new WorkflowBuilder("flaky-child")
            .Node("Try", (_, _) => Interlocked.Increment(ref childRuns) == 1
                ? throw new InvalidOperationException("first child fails")
                : Task.FromResult(NodeResult.Success("second child succeeded"))).WithRetry(RetryPolicy.None)
            .Build();
        var parent = new WorkflowBuilder("persistent-parent")
            .SubWorkflow("RunChild", "flaky-child").WithRetry(Nodes.Retry(2, TimeSpan.FromMilliseconds(10))).Then("After")
            .Node("After", Nodes.Ok())
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(child).AddWorkflow(parent));
        using var timeout = Within.Seconds();

        var started = await engine.StartAsync("persistent-parent", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal("second child succeeded", done.Artifacts["RunChild"].GetString());
        var children = (await engine.Store.ListWorkflowsAsync(new WorkflowQuery { ParentId = started.Id }, timeout.Token)).Items;
        Assert.Equal([WorkflowStatus.Failed, WorkflowStatus.Completed], children.Select(c => c.Status));
        Assert.Equal([("RunChild", 1, StepOutcome.Failed), ("RunChild", 2, StepOutcome.Completed), ("After", 1, StepOutcome.Completed)],
            (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => (s.Node, s.Attempt, s.Outcome)));
    }

    [Fact]
    public async Task SubWorkflow_AsTheLastNode_ParentCompletesWithTheChildsOutput()
    {
        var child = new WorkflowBuilder("last-child").Node("Answer", Nodes.Ok(42)).Build();
        var parent = new WorkflowBuilder("last-parent").Node("First", Nodes.Ok()).Then("Delegate").SubWorkflow("Delegate", "last-child").Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(child).AddWorkflow(parent));
        using var timeout = Within.Seconds();

        var started = await engine.StartAsync("last-parent", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Completed, "Delegate"), (done.Status, done.CurrentNode));
        Assert.Equal(42, done.Artifacts["Delegate"].GetInt32());
    }

    [Fact]
    public async Task CancelAsync_Parent_CancelsItsRunningChild()
    {
        var childNodeStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var childNodeCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var child = new WorkflowBuilder("long-child")
            .Node("Block", async (_, cancellationToken) =>
            {
                childNodeStarted.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    childNodeCancelled.TrySetResult();
                    throw;
                }

                return NodeResult.Success();
            })
            .Build();
        var parent = new WorkflowBuilder("long-parent")
            .SubWorkflow("RunChild", "long-child")
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(child).AddWorkflow(parent));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("long-parent", cancellationToken: timeout.Token);
        var waiting = await engine.WaitForAsync(started.Id, w => w.WaitReason == WaitReason.Child, timeout.Token);
        var childId = waiting.WaitDetail!;
        await childNodeStarted.Task.WaitAsync(timeout.Token);

        var cancelled = await engine.CancelAsync(started.Id, "requirements changed", timeout.Token);
        await childNodeCancelled.Task.WaitAsync(timeout.Token);
        var childEnded = await engine.WaitForCompletionAsync(childId, timeout.Token);

        Assert.Equal(WorkflowStatus.Cancelled, cancelled.Status);
        Assert.Equal(WorkflowStatus.Cancelled, childEnded.Status);
        Assert.Contains(started.Id, childEnded.Error!.Message);
        Assert.Equal(WorkflowStatus.Cancelled, (await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token)).Status);
        Assert.Equal(started.Id, childEnded.ParentId);
    }

    private sealed record Sum(int Total);
}
