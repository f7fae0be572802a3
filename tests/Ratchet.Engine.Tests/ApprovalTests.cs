namespace Ratchet.Engine.Tests;

/// <summary>Issue 3, point 6: approval nodes park the workflow for a human, who approves or rejects it, audited.</summary>
public sealed class ApprovalTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task ApproveAsync_WaitingForApproval_GoesOnToCompletionAndIsAudited()
    {
        var implemented = false;
        var observer = new RecordingObserver();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Definition(() => implemented = true)).AddObserver(observer));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("reviewed", cancellationToken: timeout.Token);

        var waiting = await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);
        Assert.Equal((WaitReason.Approval, "Review"), (waiting.WaitReason, waiting.CurrentNode));
        var parked = Assert.Single(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Waiting);
        Assert.Equal(("Approval", "Merge the plan?"), (parked.Payload!.Value.GetProperty("reason").GetString(), parked.Payload.Value.GetProperty("prompt").GetString()));
        var told = await observer.WaitForAsync(e => e.WorkflowId == started.Id && e.Kind == WorkflowEventKind.Waiting, timeout.Token);
        Assert.Equal((WaitReason.Approval, "Merge the plan?"), (told.WaitReason, told.Message));
        Assert.False(implemented);

        await engine.ApproveAsync(started.Id, "alice", "looks good", timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.True(implemented);
        Assert.True(done.Artifacts["Review"].GetProperty("approved").GetBoolean());
        Assert.Equal("alice", done.Artifacts["Review"].GetProperty("by").GetString());
        var approved = Assert.Single(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Approved);
        Assert.Equal(("Review", "alice", "looks good"),
            (approved.Node, approved.Payload!.Value.GetProperty("by").GetString(), approved.Payload.Value.GetProperty("comment").GetString()));
    }

    [Fact]
    public async Task RejectAsync_WithoutRejectedTransition_FailsTheWorkflowAndIsAudited()
    {
        var implemented = false;
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Definition(() => implemented = true)));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("reviewed", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);

        var rejected = await engine.RejectAsync(started.Id, "bob", "wrong approach", timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Failed, rejected.Status);
        Assert.Equal((WorkflowStatus.Failed, "rejected", "Review"), (done.Status, done.Error!.Type, done.CurrentNode));
        Assert.Contains("bob", done.Error.Message);
        Assert.Contains("wrong approach", done.Error.Message);
        Assert.False(implemented);
        var audit = Assert.Single(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Rejected);
        Assert.Equal(("Review", "bob", "wrong approach"),
            (audit.Node, audit.Payload!.Value.GetProperty("by").GetString(), audit.Payload.Value.GetProperty("comment").GetString()));
    }

    [Fact]
    public async Task RejectAsync_WithRejectedTransition_FollowsIt()
    {
        var rounds = 0;
        var definition = new WorkflowBuilder("revised")
            .Node("Plan", (_, _) => Task.FromResult(NodeResult.Success(Interlocked.Increment(ref rounds)))).Then("Review")
            .Approval("Review", "Accept the plan?").Then("Implement").On(WorkflowDefinition.Rejected, "Plan")
            .Node("Implement", Nodes.Ok())
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("revised", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);

        await engine.RejectAsync(started.Id, "carol", "split it in two", timeout.Token);
        var again = await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting && w.Artifacts.ContainsKey("Plan") && w.Artifacts["Plan"].GetInt32() == 2, timeout.Token);
        Assert.False(again.Artifacts["Review"].GetProperty("approved").GetBoolean());
        await engine.ApproveAsync(started.Id, "carol", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(2, rounds);
        var decisions = (await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token))
            .Where(e => e.Type is AuditEventTypes.Approved or AuditEventTypes.Rejected).Select(e => e.Type);
        Assert.Equal([AuditEventTypes.Rejected, AuditEventTypes.Approved], decisions);
    }

    [Fact]
    public async Task ApproveAsync_ApprovalIsTheLastNode_CompletesTheWorkflow()
    {
        var definition = new WorkflowBuilder("sign-off").Node("Build", Nodes.Ok()).Then("SignOff").Approval("SignOff", "Release it?").Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("sign-off", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);

        var approved = await engine.ApproveAsync(started.Id, "dave", "ship it", timeout.Token);

        Assert.Equal((WorkflowStatus.Completed, "SignOff"), (approved.Status, approved.CurrentNode));
        Assert.Equal(WorkflowStatus.Completed, (await engine.WaitForCompletionAsync(started.Id, timeout.Token)).Status);
    }

    [Fact]
    public async Task RejectAsync_RejectedTransitionToTheEnd_CompletesTheWorkflow()
    {
        var definition = new WorkflowBuilder("optional-review")
            .Approval("Review", "Publish the docs too?").Then("Publish").On(WorkflowDefinition.Rejected, WorkflowDefinition.End)
            .Node("Publish", Nodes.Ok())
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();
        var started = await engine.StartAsync("optional-review", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);

        var rejected = await engine.RejectAsync(started.Id, "erin", "not this time", timeout.Token);

        Assert.Equal((WorkflowStatus.Completed, "Review"), (rejected.Status, rejected.CurrentNode));
        Assert.DoesNotContain("Publish", rejected.Artifacts.Keys);
    }

    [Fact]
    public async Task ApproveAndReject_NotWaitingForApproval_AreRefused()
    {
        var definition = new WorkflowBuilder("no-approval").Node("A", Nodes.Ok()).Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("no-approval");
        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var approve = await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.ApproveAsync(started.Id, "alice"));
        await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.RejectAsync(started.Id, "alice", "no"));

        Assert.Contains("not waiting for approval", approve.Message);
        Assert.DoesNotContain(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token),
            e => e.Type is AuditEventTypes.Approved or AuditEventTypes.Rejected);
    }

    private static WorkflowDefinition Definition(Action onImplement) => new WorkflowBuilder("reviewed")
        .Node("Plan", Nodes.Ok("the plan")).Then("Review")
        .Approval("Review", "Merge the plan?").Then("Implement")
        .Node("Implement", (_, _) =>
        {
            onImplement();
            return Task.FromResult(NodeResult.Success());
        })
        .Build();
}
