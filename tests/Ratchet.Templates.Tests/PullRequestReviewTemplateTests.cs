using Ratchet.Templates.Reviews;

namespace Ratchet.Templates.Tests;

public sealed class PullRequestReviewTemplateTests
{
    private static readonly ReviewCommentInput Comment = new("acme/widgets", 9, 5001);

    [Fact]
    public async Task RunAsync_EveryStepSucceeds_CompletesWithEveryStepsArtifact()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddPullRequestReview());

        var done = await host.RunAsync(PullRequestReviewTemplate.DefaultName, Comment);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(["ParsingComment", "LocatingCode", "GeneratingFix", "ApplyingChanges", "Responding"], steps.Calls());
        Assert.Equal("rename x to count", done.Get<ParsedComment>(PullRequestReviewTemplate.ParsingComment).Request);
        Assert.Equal(new CodeLocation("src/A.cs", 12, 14), Assert.Single(done.Get<LocatedCode>(PullRequestReviewTemplate.LocatingCode).Locations));
        Assert.StartsWith("--- a/src/A.cs", done.Get<GeneratedFix>(PullRequestReviewTemplate.GeneratingFix).Patch, StringComparison.Ordinal);
        Assert.Equal("abc123", done.Get<AppliedChanges>(PullRequestReviewTemplate.ApplyingChanges).Commit);
        Assert.Equal("https://github.com/acme/widgets/pull/9#discussion_r5002", done.Get<ReviewResponse>(PullRequestReviewTemplate.Responding).Url);
        var response = Assert.Single(steps.Requests<ResponseRequest>()).Request;
        Assert.Equal((Comment, "abc123"), (response.Comment, response.Changes.Commit));
    }

    [Fact]
    public async Task RunAsync_ApplyingChangesKeepsFailing_RetriesThenTakesTheFailedPath()
    {
        var steps = new FakeSteps().AlwaysFail("ApplyingChanges");
        await using var host = await TemplateHost.StartAsync(steps,
            r => r.AddPullRequestReview(o => o.Retry[PullRequestReviewTemplate.ApplyingChanges] = Artifacts.FastRetry(2)));

        var done = await host.RunAsync(PullRequestReviewTemplate.DefaultName, Comment);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(nameof(IOException), done.Error!.Type);
        Assert.Equal(["ParsingComment", "LocatingCode", "GeneratingFix", "ApplyingChanges", "ApplyingChanges", "Failed"], steps.Calls());
        var report = done.Get<FailureReport>(PullRequestReviewTemplate.Failed);
        Assert.Equal((PullRequestReviewTemplate.ApplyingChanges, Comment), (report.FailedStep, report.GetInput<ReviewCommentInput>()));
        Assert.Equal(
            [("ApplyingChanges", 1, StepOutcome.Failed), ("ApplyingChanges", 2, StepOutcome.Failed), ("Failed", 1, StepOutcome.Completed)],
            (await host.JournalAsync(done.Id)).Skip(3));
    }
}
