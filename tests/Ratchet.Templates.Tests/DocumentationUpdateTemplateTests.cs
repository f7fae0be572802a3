using Ratchet.Templates.Issues;

namespace Ratchet.Templates.Tests;

public sealed class DocumentationUpdateTemplateTests
{
    private static readonly IssueInput Issue = new("acme/widgets", 5);

    [Fact]
    public async Task RunAsync_EveryStepSucceeds_OpensAPullRequestWithoutATestRun()
    {
        var steps = new FakeSteps();
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddDocumentationUpdate());

        var done = await host.RunAsync(DocumentationUpdateTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(["Analyzing", "Writing", "CreatingPR"], steps.Calls());
        Assert.Equal(["docs/guide.md"], done.Get<ImplementationResult>(DocumentationUpdateTemplate.Writing).ChangedFiles);
        var request = Assert.Single(steps.Requests<PullRequestRequest>()).Request;
        Assert.Null(request.Tests);
        Assert.Equal(done.Get<ImplementationResult>(DocumentationUpdateTemplate.Writing).Summary, request.Changes.Summary);
        Assert.Equal(105, done.Get<PullRequestResult>(DocumentationUpdateTemplate.CreatingPR).Number);
        Assert.True(done.Artifacts.ContainsKey(DocumentationUpdateTemplate.Analyzing));
    }

    [Fact]
    public async Task RunAsync_WriterRefuses_FailsWithoutSpendingItsRetries()
    {
        var steps = new FakeSteps().FailOnce("Writing", new StepFailedException("The page to update does not exist."));
        await using var host = await TemplateHost.StartAsync(steps, r => r.AddDocumentationUpdate());

        var done = await host.RunAsync(DocumentationUpdateTemplate.DefaultName, Issue);

        Assert.Equal(WorkflowStatus.Failed, done.Status);
        Assert.Equal(DocumentationUpdateTemplate.Writing, done.Get<FailureReport>(DocumentationUpdateTemplate.Failed).FailedStep);
        Assert.Equal(["Analyzing", "Writing", "Failed"], steps.Calls());
    }
}
