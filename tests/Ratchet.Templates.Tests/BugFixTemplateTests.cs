using Ratchet.Engine;
using Ratchet.Templates.Issues;

namespace Ratchet.Templates.Tests;

/// <summary>The bug fix template, on the plain <see cref="RatchetBuilder"/> with the test's services.</summary>
public sealed class BugFixTemplateTests
{
    private static readonly IssueInput Bug = new("acme/widgets", 13);

    [Fact]
    public async Task RunAsync_EveryStepSucceeds_CompletesWithEveryStepsArtifact()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartPlainAsync(steps, b => b.AddBugFix());

        var done = await host.RunAsync(BugFixTemplate.DefaultName, Bug);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(["Reproducing", "Fixing", "Testing", "CreatingPR"], steps.Calls());
        Assert.Equal("BugTests.Reproduces", done.Get<BugReproduction>(BugFixTemplate.Reproducing).FailingTest);
        Assert.Equal("fix-13", done.Get<ImplementationResult>(BugFixTemplate.Fixing).Branch);
        Assert.Equal(TestOutcome.Passed, done.Get<TestRunResult>(BugFixTemplate.Testing).Outcome);
        Assert.Equal(113, done.Get<PullRequestResult>(BugFixTemplate.CreatingPR).Number);
        Assert.Equal("bug 13 reproduced", Assert.Single(steps.Requests<BugFixRequest>()).Request.Reproduction.Summary);
    }

    [Fact]
    public async Task RunAsync_TestsKeepFailing_StopsAtTheFixIterationLimitAndFails()
    {
        var steps = new FakeSteps { FailingTestRuns = int.MaxValue };
        await using var host = await TemplateHost.StartPlainAsync(steps, b => b.AddBugFix());

        var done = await host.RunAsync(BugFixTemplate.DefaultName, Bug);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(["Reproducing", "Fixing", "Testing", "Fixing", "Testing", "Fixing", "Testing", "Failed"], steps.Calls());
        Assert.Equal([null, "1 failed after iteration 1", "1 failed after iteration 2"],
            steps.Requests<BugFixRequest>().Select(r => r.Request.PreviousTestRun?.Summary));
        Assert.Equal(3, done.Get<int>(BugFixTemplate.IterationsArtifact));
        Assert.Contains("MaxFixIterations = 3", done.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(BugFixTemplate.Testing, done.Get<FailureReport>(BugFixTemplate.Failed).FailedStep);
    }

    [Fact]
    public async Task RunAsync_ReproducingThrows_TakesTheFailedPath()
    {
        var steps = new FakeSteps().FailOnce("Reproducing", new InvalidOperationException("The bug does not reproduce on main."));
        await using var host = await TemplateHost.StartPlainAsync(steps, b => b.AddBugFix());

        var done = await host.RunAsync(BugFixTemplate.DefaultName, Bug);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(new WorkflowError(nameof(InvalidOperationException), "The bug does not reproduce on main.") { Node = BugFixTemplate.Reproducing }, done.Error);
        Assert.Equal(BugFixTemplate.Reproducing, done.Get<FailureReport>(BugFixTemplate.Failed).FailedStep);
        Assert.Equal(["Reproducing", "Failed"], steps.Calls());
    }
}
