using Ratchet.Engine;
using Ratchet.Templates.Issues;

namespace Ratchet.Templates.Tests;

public sealed class IssueImplementationTemplateTests
{
    private static readonly IssueInput Issue = new("acme/widgets", 42);

    [Fact]
    public async Task RunAsync_EveryStepSucceeds_CompletesWithEveryStepsArtifact()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddIssueImplementation());

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Null(done.Error);
        Assert.Equal(["Analyzing", "Planning", "Implementing", "Testing", "CreatingPR"], steps.Calls());
        Assert.Equal(IssueComplexity.Small, done.Get<IssueAnalysis>(IssueImplementationTemplate.Analyzing).Complexity);
        Assert.Equal("plans/42.md", done.Get<ImplementationPlan>(IssueImplementationTemplate.Planning).PlanPath);
        Assert.Equal("c1", done.Get<ImplementationResult>(IssueImplementationTemplate.Implementing).Commit);
        Assert.Equal(TestOutcome.Passed, done.Get<TestRunResult>(IssueImplementationTemplate.Testing).Outcome);
        Assert.Equal(new PullRequestResult(142, "https://github.com/acme/widgets/pull/142"), done.Get<PullRequestResult>(IssueImplementationTemplate.CreatingPR));
        Assert.Equal(1, done.Get<int>(IssueImplementationTemplate.IterationsArtifact));
        Assert.Equal(new CompletedStep(IssueImplementationTemplate.CreatingPR, NodeResult.SuccessOutcome), done.Get<CompletedStep>(TemplateArtifacts.LastStep));
        Assert.False(done.Artifacts.ContainsKey(IssueImplementationTemplate.Failed));
        Assert.Equal(
            [("Analyzing", 1, StepOutcome.Completed), ("Planning", 1, StepOutcome.Completed), ("Implementing", 1, StepOutcome.Completed),
             ("Testing", 1, StepOutcome.Completed), ("CreatingPR", 1, StepOutcome.Completed)],
            await host.JournalAsync(done.Id));
    }

    [Fact]
    public async Task RunAsync_EveryStepSucceeds_EachStepGetsWhatTheStepsBeforeItReturned()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddIssueImplementation());

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        var (analyzeContext, analyzed) = Assert.Single(steps.Requests<IssueInput>());
        Assert.Equal(Issue, analyzed);
        Assert.Equal((done.Id, IssueImplementationTemplate.DefaultName, "Analyzing", 1, $"{done.Id}/Analyzing/1"),
            (analyzeContext.WorkflowId, analyzeContext.WorkflowType, analyzeContext.Step, analyzeContext.Attempt, analyzeContext.IdempotencyKey));
        var planning = Assert.Single(steps.Requests<PlanningRequest>()).Request;
        Assert.Equal(done.Get<IssueAnalysis>("Analyzing").Summary, planning.Analysis.Summary);
        Assert.Null(planning.PreviousPlan);
        Assert.Null(planning.Rejection);
        var implementation = Assert.Single(steps.Requests<ImplementationRequest>()).Request;
        Assert.Equal((1, null), (implementation.Iteration, implementation.PreviousTestRun));
        Assert.Equal(done.Get<ImplementationPlan>("Planning").Summary, implementation.Plan.Summary);
        var pullRequest = Assert.Single(steps.Requests<PullRequestRequest>()).Request;
        Assert.Equal(done.Get<ImplementationResult>("Implementing").Summary, pullRequest.Changes.Summary);
        Assert.Equal(TestOutcome.Passed, pullRequest.Tests!.Outcome);
    }

    [Fact]
    public async Task RunAsync_PlanningThrows_TakesTheFailedPathAndRecordsTheFailure()
    {
        var steps = new FakeSteps().FailOnce("Planning", new StepFailedException("The issue does not say what to change."));
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddIssueImplementation());

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(IssueImplementationTemplate.Failed, done.CurrentNode);
        Assert.Equal(new WorkflowError(nameof(StepFailedException), "The issue does not say what to change.") { Node = IssueImplementationTemplate.Planning }, done.Error);
        var report = done.Get<FailureReport>(IssueImplementationTemplate.Failed);
        Assert.Equal((done.Id, IssueImplementationTemplate.DefaultName, "Planning"), (report.WorkflowId, report.WorkflowType, report.FailedStep));
        Assert.Equal(done.Error, report.Error);
        Assert.Equal(Issue, report.GetInput<IssueInput>());
        var reported = Assert.Single(steps.Requests<FailureReport>());
        Assert.Equal((report.FailedStep, report.Error, report.At), (reported.Request.FailedStep, reported.Request.Error, reported.Request.At));
        Assert.Equal(("Failed", $"{done.Id}/Failed/1"), (reported.Context.Step, reported.Context.IdempotencyKey));
        Assert.Equal(["Analyzing", "Planning", "Failed"], steps.Calls());
        Assert.Equal(
            [("Analyzing", 1, StepOutcome.Completed), ("Planning", 1, StepOutcome.Failed), ("Failed", 1, StepOutcome.Completed)],
            await host.JournalAsync(done.Id));
    }

    [Fact]
    public async Task RetryAsync_FromTheReportedFailedStep_RunsOnToCompletion()
    {
        var steps = new FakeSteps().FailOnce("Implementing", new StepFailedException("The agent gave up."));
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddIssueImplementation());
        var failed = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);
        var report = failed.Get<FailureReport>(IssueImplementationTemplate.Failed);
        Assert.Equal(IssueImplementationTemplate.Implementing, report.FailedStep);

        await host.Engine.RetryAsync(failed.Id, report.FailedStep);
        var done = await host.WaitForAsync(failed.Id, w => w.Status == WorkflowStatus.Completed);

        Assert.Equal(["Analyzing", "Planning", "Implementing", "Failed", "Implementing", "Testing", "CreatingPR"], steps.Calls());
        Assert.Equal(142, done.Get<PullRequestResult>(IssueImplementationTemplate.CreatingPR).Number);
    }

    [Fact]
    public async Task RunAsync_TestsFailOnce_LoopsBackToImplementingWithTheFailedRunThenCompletes()
    {
        var steps = new FakeSteps { FailingTestRuns = 1 };
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddIssueImplementation());

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(["Analyzing", "Planning", "Implementing", "Testing", "Implementing", "Testing", "CreatingPR"], steps.Calls());
        var second = steps.Requests<ImplementationRequest>()[1].Request;
        Assert.Equal(2, second.Iteration);
        Assert.Equal((TestOutcome.Failed, "1 failed after iteration 1"), (second.PreviousTestRun!.Outcome, second.PreviousTestRun.Summary));
        Assert.Equal([1, 2], steps.Requests<TestRequest>().Select(r => r.Request.Iteration));
        Assert.Equal(2, done.Get<int>(IssueImplementationTemplate.IterationsArtifact));
        Assert.Equal("c2", done.Get<ImplementationResult>(IssueImplementationTemplate.Implementing).Commit);
        Assert.Equal("c2", steps.Requests<PullRequestRequest>()[0].Request.Changes.Commit);
        var events = await host.Engine.Store.GetEventsAsync(done.Id);
        Assert.Contains(events, e => e.Type == AuditEventTypes.NodeCompleted && e.Node == "Testing" && e.Payload?.GetProperty("outcome").GetString() == "tests-failed");
    }

    [Fact]
    public async Task RunAsync_TestsKeepFailing_StopsAtTheIterationLimitAndFails()
    {
        var steps = new FakeSteps { FailingTestRuns = int.MaxValue };
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddIssueImplementation(o => o.MaxImplementationIterations = 2));

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(["Analyzing", "Planning", "Implementing", "Testing", "Implementing", "Testing", "Failed"], steps.Calls());
        Assert.Equal(nameof(TestsStillFailingException), done.Error!.Type);
        Assert.Contains("MaxImplementationIterations = 2", done.Error.Message, StringComparison.Ordinal);
        Assert.Contains("1 failed after iteration 2", done.Error.Message, StringComparison.Ordinal);
        Assert.Equal(IssueImplementationTemplate.Testing, done.Get<FailureReport>(IssueImplementationTemplate.Failed).FailedStep);
        Assert.Equal(2, done.Get<int>(IssueImplementationTemplate.IterationsArtifact));
        // Failing tests are not an error worth retrying: the last Testing ran once.
        Assert.Equal(("Testing", 1, StepOutcome.Failed), (await host.JournalAsync(done.Id))[^2]);
    }

    [Fact]
    public async Task RunAsync_PullRequestCreationFailsOnce_RetriesAfterABackOffAndCompletes()
    {
        var steps = new FakeSteps().FailOnce("CreatingPR", new HttpRequestException("GitHub answered 502 Bad Gateway"));
        await using var host = await TemplateHost.StartAsync(steps,
            r => r.AddIssueImplementation(o => o.Retry[IssueImplementationTemplate.CreatingPR] = Artifacts.FastRetry(3)));

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal([1, 2], steps.Requests<PullRequestRequest>().Select(r => r.Context.Attempt));
        var journal = await host.JournalAsync(done.Id);
        Assert.Equal([("CreatingPR", 1, StepOutcome.Failed), ("CreatingPR", 2, StepOutcome.Completed)], journal.Where(s => s.Node == "CreatingPR"));
        var events = await host.Engine.Store.GetEventsAsync(done.Id);
        Assert.Contains(events, e => e.Type == AuditEventTypes.RetryScheduled && e.Node == "CreatingPR");
    }

    [Fact]
    public async Task RunAsync_StepTimesOutInsideItsClient_IsRetriedAsATimeout()
    {
        var steps = new FakeSteps().FailOnce("CreatingPR", new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing."));
        await using var host = await TemplateHost.StartAsync(steps,
            r => r.AddIssueImplementation(o => o.Retry[IssueImplementationTemplate.CreatingPR] = Artifacts.FastRetry(3)));

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        var failure = (await host.Engine.Store.GetStepsAsync(done.Id)).Single(s => s.Outcome == StepOutcome.Failed);
        Assert.Equal(("CreatingPR", nameof(TimeoutException)), (failure.Node, failure.Error!.Type));
    }

    [Fact]
    public async Task RunAsync_NoPullRequestCreatorRegistered_FailsAtOnceNamingTheMissingInterface()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddIssueImplementation(), typeof(IPullRequestCreator));

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(nameof(StepImplementationMissingException), done.Error!.Type);
        Assert.Contains("IPullRequestCreator", done.Error.Message, StringComparison.Ordinal);
        Assert.Equal(IssueImplementationTemplate.CreatingPR, done.Get<FailureReport>(IssueImplementationTemplate.Failed).FailedStep);
        // A missing implementation is a configuration mistake: the Network policy's retries are not spent on it.
        Assert.Single(await host.JournalAsync(done.Id), s => s.Node == "CreatingPR");
    }

    [Fact]
    public async Task RunAsync_InputMissingItsRepository_FailsAtTheFirstStepWithoutCallingIt()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddIssueImplementation());

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, new { issue = 42 });

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(nameof(StepFailedException), done.Error!.Type);
        Assert.Contains("repository is missing", done.Error.Message, StringComparison.Ordinal);
        Assert.Equal(IssueImplementationTemplate.Analyzing, done.Get<FailureReport>(IssueImplementationTemplate.Failed).FailedStep);
        Assert.Equal(["Failed"], steps.Calls());
    }

    [Fact]
    public async Task RunAsync_ReporterFailsOnce_FailedStepRetriesAndKeepsTheOriginalError()
    {
        var steps = new FakeSteps { FailingReports = 1 }.FailOnce("Analyzing", new StepFailedException("Not an issue we can act on."));
        await using var host = await TemplateHost.StartAsync(steps,
            r => r.AddIssueImplementation(o => o.Retry[IssueImplementationTemplate.Failed] = Artifacts.FastRetry(3)));

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(new WorkflowError(nameof(StepFailedException), "Not an issue we can act on.") { Node = IssueImplementationTemplate.Analyzing }, done.Error);
        Assert.Equal([1, 2], steps.Requests<FailureReport>().Select(r => r.Context.Attempt));
        Assert.Equal("Analyzing", done.Get<FailureReport>(IssueImplementationTemplate.Failed).FailedStep);
    }

    [Fact]
    public async Task RunAsync_ReporterAlwaysFails_FailsWithAnErrorThatNamesBothFailures()
    {
        var steps = new FakeSteps { FailingReports = int.MaxValue }.FailOnce("Analyzing", new StepFailedException("Not an issue we can act on."));
        await using var host = await TemplateHost.StartAsync(steps,
            r => r.AddIssueImplementation(o => o.Retry[IssueImplementationTemplate.Failed] = Artifacts.FastRetry(2)));

        var done = await host.RunAsync(IssueImplementationTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(nameof(FailureReportingException), done.Error!.Type);
        Assert.Contains("Not an issue we can act on.", done.Error.Message, StringComparison.Ordinal);
        Assert.Contains("502 Bad Gateway", done.Error.Message, StringComparison.Ordinal);
        Assert.Equal(2, steps.Requests<FailureReport>().Count);
    }
}
