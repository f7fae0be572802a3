using Ratchet.Engine;

namespace Ratchet.Templates.Issues;

/// <summary>
/// Implements a GitHub issue:
/// <c>Analyzing → Planning → Implementing → Testing → CreatingPR → completed</c>, where failing tests send the work back
/// to <c>Implementing</c> (outcome <c>tests-failed</c>) up to <see cref="IssueImplementationOptions.MaxImplementationIterations"/>
/// times, and every step's failure (after its retries) leads to <c>Failed</c>, which records a <see cref="FailureReport"/>
/// and ends the workflow as Failed.
/// </summary>
/// <remarks>
/// Input: an <see cref="IssueInput"/>. Each step calls an interface you register in the engine's services
/// (<see cref="IIssueAnalyzer"/>, <see cref="IImplementationPlanner"/>, <see cref="IImplementer"/>, <see cref="ITestRunner"/>,
/// <see cref="IPullRequestCreator"/>; optionally <see cref="IFailureReporter"/>s), and stores what it returns as its
/// artifact, under the step's name; the workflow's output is the <see cref="PullRequestResult"/>.
/// Default retries: Analyzing and Planning none, Implementing <see cref="TemplateRetryPolicies.Agent"/>, Testing
/// <see cref="TemplateRetryPolicies.Local"/>, CreatingPR and Failed <see cref="TemplateRetryPolicies.Network"/>.
/// </remarks>
public static class IssueImplementationTemplate
{
    /// <summary>The workflow type, unless the options name another.</summary>
    public const string DefaultName = "issue-implementation";

    /// <summary>The first step: <see cref="IIssueAnalyzer"/>; its artifact is an <see cref="IssueAnalysis"/>.</summary>
    public const string Analyzing = IssueSteps.Analyzing;

    /// <summary>The planning step: <see cref="IImplementationPlanner"/>; its artifact is an <see cref="ImplementationPlan"/>.</summary>
    public const string Planning = IssueSteps.Planning;

    /// <summary>The implementing step: <see cref="IImplementer"/>; its artifact is an <see cref="ImplementationResult"/>.</summary>
    public const string Implementing = IssueSteps.Implementing;

    /// <summary>The testing step: <see cref="ITestRunner"/>; its artifact is a <see cref="TestRunResult"/>.</summary>
    public const string Testing = IssueSteps.Testing;

    /// <summary>The last step: <see cref="IPullRequestCreator"/>; its artifact (the workflow's output) is a <see cref="PullRequestResult"/>.</summary>
    public const string CreatingPR = IssueSteps.CreatingPR;

    /// <summary>The failure step: its artifact is a <see cref="FailureReport"/>.</summary>
    public const string Failed = TemplateBuilder.Failed;

    /// <summary>The outcome of <see cref="Testing"/> that sends the work back to <see cref="Implementing"/>.</summary>
    public const string TestsFailedOutcome = IssueSteps.TestsFailed;

    /// <summary>The artifact counting how many times <see cref="Implementing"/> has completed (an integer).</summary>
    public const string IterationsArtifact = "implementationIterations";

    /// <summary>The template's steps, in order.</summary>
    public static IReadOnlyList<string> Steps { get; } = [Analyzing, Planning, Implementing, Testing, CreatingPR, Failed];

    /// <summary>Builds the definition.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static WorkflowDefinition Build(IssueImplementationOptions? options = null)
    {
        options ??= new IssueImplementationOptions();
        var template = new TemplateBuilder(options,
            "Implements an issue: analyse, plan, implement, test (back to implementing while the tests fail, up to a limit), open a pull request.");
        template.Step(Analyzing, new AnalyzeIssueNode(), TemplateRetryPolicies.None, nameof(IIssueAnalyzer)).Then(Planning);
        template.Step(Planning, new PlanImplementationNode(approvalStep: null), TemplateRetryPolicies.None, nameof(IImplementationPlanner)).Then(Implementing);
        IssueFlows.AddImplementAndTest(template, options.MaxImplementationIterations, nameof(IssueImplementationOptions.MaxImplementationIterations));
        return template.Build();
    }
}

/// <summary>Settings of <see cref="IssueImplementationTemplate"/>.</summary>
public sealed class IssueImplementationOptions : WorkflowTemplateOptions
{
    /// <summary>
    /// How many times <c>Implementing</c> may run in the implement–test loop; when the tests fail after the last one,
    /// the workflow fails. 1 to 100; default 3.
    /// </summary>
    public int MaxImplementationIterations { get; set; } = 3;

    private protected override string DefaultName => IssueImplementationTemplate.DefaultName;

    private protected override IReadOnlyList<string> ConfigurableSteps => IssueImplementationTemplate.Steps;

    private protected override void AddProblems(List<string> problems) =>
        IssueFlows.CheckIterations(problems, nameof(MaxImplementationIterations), MaxImplementationIterations);
}

/// <summary>The parts the issue templates share.</summary>
internal static class IssueFlows
{
    /// <summary><c>Implementing → Testing</c> (back on <c>tests-failed</c>) <c>→ CreatingPR → completed</c>.</summary>
    public static void AddImplementAndTest(TemplateBuilder template, int maxIterations, string limitOption)
    {
        template.Step(IssueSteps.Implementing, new ImplementNode(IssueImplementationTemplate.IterationsArtifact), TemplateRetryPolicies.Agent, nameof(IImplementer))
            .Then(IssueSteps.Testing);
        template.Step(IssueSteps.Testing, new RunTestsNode(IssueSteps.Implementing, IssueImplementationTemplate.IterationsArtifact, maxIterations, limitOption),
                TemplateRetryPolicies.Local, nameof(ITestRunner))
            .On(IssueSteps.TestsFailed, IssueSteps.Implementing)
            .Then(IssueSteps.CreatingPR);
        AddCreatePullRequest(template, IssueSteps.Implementing, IssueSteps.Testing);
    }

    /// <summary><c>CreatingPR → completed</c>.</summary>
    public static void AddCreatePullRequest(TemplateBuilder template, string changesStep, string? testingStep) =>
        template.Step(IssueSteps.CreatingPR, new CreatePullRequestNode(changesStep, testingStep), TemplateRetryPolicies.Network, nameof(IPullRequestCreator))
            .Then(WorkflowDefinition.End);

    public static void CheckIterations(List<string> problems, string option, int value)
    {
        if (value is < 1 or > 100)
        {
            problems.Add($"{option} is {value}; it must be between 1 and 100.");
        }
    }
}
