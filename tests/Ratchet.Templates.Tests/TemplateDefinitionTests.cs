using Microsoft.Extensions.DependencyInjection;
using Ratchet.Engine;
using Ratchet.Templates.Issues;
using Ratchet.Templates.Reviews;

namespace Ratchet.Templates.Tests;

public sealed class TemplateDefinitionTests
{
    public static TheoryData<string> Templates => new() { "issue", "feature", "bug", "docs", "review" };

    private static (WorkflowDefinition Definition, IReadOnlyList<string> Steps) Template(string name) => name switch
    {
        "issue" => (IssueImplementationTemplate.Build(), IssueImplementationTemplate.Steps),
        "feature" => (FeatureImplementationTemplate.Build(), FeatureImplementationTemplate.Steps),
        "bug" => (BugFixTemplate.Build(), BugFixTemplate.Steps),
        "docs" => (DocumentationUpdateTemplate.Build(), DocumentationUpdateTemplate.Steps),
        "review" => (PullRequestReviewTemplate.Build(), PullRequestReviewTemplate.Steps),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "No such template."),
    };

    [Theory]
    [MemberData(nameof(Templates))]
    public void ToMermaid_EveryTemplate_DrawsEveryStepAndBothEnds(string name)
    {
        var (definition, steps) = Template(name);

        var mermaid = definition.ToMermaid();

        Assert.Equal(steps, definition.Nodes.Select(n => n.Name));
        foreach (var step in steps)
        {
            Assert.Matches($"n\\d+(\\[|\\{{\\{{)\"{step}", mermaid);
        }

        Assert.Contains("done((completed))", mermaid, StringComparison.Ordinal);
        Assert.Contains("failed((failed))", mermaid, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Build_EveryTemplate_GivesEveryStepAFailurePathToFailedWhichFailsTheWorkflow(string name)
    {
        var (definition, _) = Template(name);

        var failed = definition["Failed"];
        Assert.True(failed.FailsWorkflow);
        Assert.Null(failed.FailureTarget);
        Assert.All(definition.Nodes.Where(n => n.Name != "Failed"), n => Assert.Equal("Failed", n.FailureTarget));
        Assert.Equal(Template(name).Definition.Version, definition.Version);
    }

    [Fact]
    public void Build_IssueImplementation_LoopsFromTestingBackToImplementing()
    {
        var definition = IssueImplementationTemplate.Build();

        Assert.Equal(IssueImplementationTemplate.Implementing, definition[IssueImplementationTemplate.Testing].TargetFor(IssueImplementationTemplate.TestsFailedOutcome));
        Assert.Equal(IssueImplementationTemplate.CreatingPR, definition[IssueImplementationTemplate.Testing].TargetFor(NodeResult.SuccessOutcome));
        Assert.Contains("-->|tests-failed|", definition.ToMermaid(), StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DefaultRetries_NetworkStepsRetryWithBackOffAndReasoningStepsDoNot()
    {
        var definition = IssueImplementationTemplate.Build();

        Assert.Equal(1, definition.RetryFor(definition["Analyzing"]).MaxAttempts);
        Assert.Equal(1, definition.RetryFor(definition["Planning"]).MaxAttempts);
        Assert.Same(TemplateRetryPolicies.Agent, definition.RetryFor(definition["Implementing"]));
        Assert.Same(TemplateRetryPolicies.Local, definition.RetryFor(definition["Testing"]));
        var network = definition.RetryFor(definition["CreatingPR"]);
        Assert.Equal((5, TimeSpan.FromSeconds(2), 2.0), (network.MaxAttempts, network.InitialDelay, network.BackoffFactor));
        Assert.True(network.CanRetry(new HttpRequestException("502"), 1));
        Assert.False(network.CanRetry(new StepFailedException("no"), 1));
    }

    [Fact]
    public void Build_Options_NameRetryAndTimeoutsApply()
    {
        var retry = Artifacts.FastRetry(7);
        var options = new PullRequestReviewOptions { Name = "pr-review-fast", Timeout = TimeSpan.FromHours(1) };
        options.Retry[PullRequestReviewTemplate.Responding] = retry;
        options.StepTimeouts[PullRequestReviewTemplate.GeneratingFix] = TimeSpan.FromMinutes(10);

        var definition = PullRequestReviewTemplate.Build(options);

        Assert.Equal(("pr-review-fast", TimeSpan.FromHours(1)), (definition.Name, definition.Timeout));
        Assert.Same(retry, definition[PullRequestReviewTemplate.Responding].Retry);
        Assert.Equal(TimeSpan.FromMinutes(10), definition[PullRequestReviewTemplate.GeneratingFix].Timeout);
        Assert.NotEqual(PullRequestReviewTemplate.Build().Version, definition.Version);
    }

    [Fact]
    public void Build_InvalidOptions_ListsEveryProblem()
    {
        var options = new IssueImplementationOptions { Name = " ", Timeout = TimeSpan.FromSeconds(-1), MaxImplementationIterations = 0 };
        options.Retry["Deploying"] = RetryPolicy.Default;
        options.Retry["Testing"] = new RetryPolicy { MaxAttempts = 0 };
        options.StepTimeouts["Planning"] = TimeSpan.Zero;

        var error = Assert.Throws<ArgumentException>(() => IssueImplementationTemplate.Build(options));

        Assert.Equal(6, options.Validate().Count);
        foreach (var problem in new[] { "Name is ' '", "Timeout is -00:00:01", "'Deploying'", "Retry['Testing']: MaxAttempts is 0", "StepTimeouts['Planning']", "MaxImplementationIterations is 0" })
        {
            Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_FeatureOptionsWithApprovalRetry_RefusesTheApprovalStep()
    {
        var options = new FeatureImplementationOptions { PlanApprovalPrompt = "" };
        options.Retry[FeatureImplementationTemplate.PlanApproval] = RetryPolicy.Default;

        var problems = options.Validate();

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.Contains("'PlanApproval'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("PlanApprovalPrompt", StringComparison.Ordinal));
    }

    [Fact]
    public void AddIssueImplementation_InvalidOptions_RefusedAtRegistration()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddRatchet().AddIssueImplementation(o => o.MaxImplementationIterations = 101));

        Assert.Contains("MaxImplementationIterations is 101", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_TwoConfiguredCopies_RegisterSideBySide()
    {
        var registry = new WorkflowRegistry()
            .Add(IssueImplementationTemplate.Build())
            .Add(IssueImplementationTemplate.Build(new IssueImplementationOptions { Name = "issue-implementation-strict", MaxImplementationIterations = 1 }));

        Assert.Equal(["issue-implementation", "issue-implementation-strict"], registry.Types);
    }
}
