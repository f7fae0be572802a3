using Ratchet.Templates.Issues;

namespace Ratchet.Templates.Tests;

public sealed class FeatureImplementationTemplateTests
{
    private static readonly IssueInput Feature = new("acme/widgets", 7);

    private static bool WaitsForApproval(WorkflowRecord workflow) =>
        workflow is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Approval };

    [Fact]
    public async Task ApproveAsync_PlanWaitingForApproval_ImplementsAndCompletes()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddFeatureImplementation());
        var started = await host.Engine.StartAsync(FeatureImplementationTemplate.DefaultName, Feature);

        var waiting = await host.WaitForAsync(started.Id, WaitsForApproval);
        Assert.Equal(FeatureImplementationTemplate.PlanApproval, waiting.CurrentNode);
        Assert.Equal(["Analyzing", "Planning"], steps.Calls());

        await host.Engine.ApproveAsync(started.Id, "alice", "Looks right.");
        var done = await host.WaitForAsync(started.Id, w => w.IsTerminal);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(["Analyzing", "Planning", "Implementing", "Testing", "CreatingPR"], steps.Calls());
        Assert.Equal(new ApprovalDecision(true, "alice", "Looks right."), done.Get<ApprovalDecision>(FeatureImplementationTemplate.PlanApproval));
        foreach (var step in new[] { "Analyzing", "Planning", "PlanApproval", "Implementing", "Testing", "CreatingPR" })
        {
            Assert.True(done.Artifacts.ContainsKey(step), $"The artifact of {step} is missing.");
        }
    }

    [Fact]
    public async Task RejectAsync_DefaultReplan_PlansAgainWithTheCommentThenCompletesWhenApproved()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddFeatureImplementation());
        var started = await host.Engine.StartAsync(FeatureImplementationTemplate.DefaultName, Feature);
        await host.WaitForAsync(started.Id, WaitsForApproval);

        await host.Engine.RejectAsync(started.Id, "bob", "Split it into two steps.");
        await host.WaitForAsync(started.Id, WaitsForApproval);
        await host.Engine.ApproveAsync(started.Id, "bob");
        var done = await host.WaitForAsync(started.Id, w => w.IsTerminal);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(["Analyzing", "Planning", "Planning", "Implementing", "Testing", "CreatingPR"], steps.Calls());
        var replan = steps.Requests<PlanningRequest>()[1].Request;
        Assert.Equal(new ApprovalDecision(false, "bob", "Split it into two steps."), replan.Rejection);
        Assert.Equal("plan v1 for acme/widgets#7 asks for a change", replan.PreviousPlan!.Summary);
        Assert.Equal(2, steps.Requests<ImplementationRequest>()[0].Request.Plan.Steps.Count);
        Assert.Equal(["approved", "rejected"], (await host.Engine.Store.GetEventsAsync(done.Id)).Select(e => e.Type).Where(t => t is "approved" or "rejected").Order());
    }

    [Fact]
    public async Task RejectAsync_PlanRejectionFail_FailsRecordingTheRejection()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddFeatureImplementation(o => o.PlanRejection = PlanRejectionAction.Fail));
        var started = await host.Engine.StartAsync(FeatureImplementationTemplate.DefaultName, Feature);
        await host.WaitForAsync(started.Id, WaitsForApproval);

        await host.Engine.RejectAsync(started.Id, "carol", "Out of scope.");
        var done = await host.WaitForAsync(started.Id, w => w.IsTerminal);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal("rejected", done.Error!.Type);
        Assert.Contains("carol", done.Error.Message, StringComparison.Ordinal);
        Assert.Contains("Out of scope.", done.Error.Message, StringComparison.Ordinal);
        var report = done.Get<FailureReport>(FeatureImplementationTemplate.Failed);
        Assert.Equal((FeatureImplementationTemplate.PlanApproval, done.Error), (report.FailedStep, report.Error));
        Assert.Equal(["Analyzing", "Planning", "Failed"], steps.Calls());
    }

    [Fact]
    public async Task RunAsync_ImplementingFailsAfterApproval_ReportsImplementingAsTheFailedStep()
    {
        var steps = new FakeSteps().FailOnce("Implementing", new StepFailedException("The agent gave up."));
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddFeatureImplementation());
        var started = await host.Engine.StartAsync(FeatureImplementationTemplate.DefaultName, Feature);
        await host.WaitForAsync(started.Id, WaitsForApproval);

        await host.Engine.ApproveAsync(started.Id, "alice");
        var done = await host.WaitForAsync(started.Id, w => w.IsTerminal);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(FeatureImplementationTemplate.Implementing, done.Get<FailureReport>(FeatureImplementationTemplate.Failed).FailedStep);
    }
}
