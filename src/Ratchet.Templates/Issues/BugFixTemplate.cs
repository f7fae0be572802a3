using Ratchet.Engine;

namespace Ratchet.Templates.Issues;

/// <summary>
/// Fixes a reported bug: <c>Reproducing → Fixing → Testing → CreatingPR → completed</c>, where failing tests send the
/// work back to <c>Fixing</c> (outcome <c>tests-failed</c>) up to <see cref="BugFixOptions.MaxFixIterations"/> times,
/// and every step's failure (after its retries) leads to <c>Failed</c>, which records a <see cref="FailureReport"/> and
/// ends the workflow as Failed.
/// </summary>
/// <remarks>
/// Input: an <see cref="IssueInput"/> (the bug's issue). Steps call <see cref="IBugReproducer"/>, <see cref="IBugFixer"/>,
/// <see cref="ITestRunner"/>, <see cref="IPullRequestCreator"/>; optionally <see cref="IFailureReporter"/>s. Default
/// retries: Reproducing none, Fixing <see cref="TemplateRetryPolicies.Agent"/>, Testing <see cref="TemplateRetryPolicies.Local"/>,
/// CreatingPR and Failed <see cref="TemplateRetryPolicies.Network"/>.
/// </remarks>
public static class BugFixTemplate
{
    /// <summary>The workflow type, unless the options name another.</summary>
    public const string DefaultName = "bug-fix";

    /// <summary>The first step: <see cref="IBugReproducer"/>; its artifact is a <see cref="BugReproduction"/>.</summary>
    public const string Reproducing = IssueSteps.Reproducing;

    /// <summary>The fixing step: <see cref="IBugFixer"/>; its artifact is an <see cref="ImplementationResult"/>.</summary>
    public const string Fixing = IssueSteps.Fixing;

    /// <summary>The testing step: <see cref="ITestRunner"/>; its artifact is a <see cref="TestRunResult"/>.</summary>
    public const string Testing = IssueSteps.Testing;

    /// <summary>The last step: <see cref="IPullRequestCreator"/>; its artifact (the workflow's output) is a <see cref="PullRequestResult"/>.</summary>
    public const string CreatingPR = IssueSteps.CreatingPR;

    /// <summary>The failure step: its artifact is a <see cref="FailureReport"/>.</summary>
    public const string Failed = TemplateBuilder.Failed;

    /// <summary>The outcome of <see cref="Testing"/> that sends the work back to <see cref="Fixing"/>.</summary>
    public const string TestsFailedOutcome = IssueSteps.TestsFailed;

    /// <summary>The artifact counting how many times <see cref="Fixing"/> has completed (an integer).</summary>
    public const string IterationsArtifact = "fixIterations";

    /// <summary>The template's steps, in order.</summary>
    public static IReadOnlyList<string> Steps { get; } = [Reproducing, Fixing, Testing, CreatingPR, Failed];

    /// <summary>Builds the definition.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static WorkflowDefinition Build(BugFixOptions? options = null)
    {
        options ??= new BugFixOptions();
        var template = new TemplateBuilder(options,
            "Fixes a bug: reproduce it, fix it, test (back to fixing while the tests fail, up to a limit), open a pull request.");
        template.Step(Reproducing, new ReproduceBugNode(), TemplateRetryPolicies.None, nameof(IBugReproducer)).Then(Fixing);
        template.Step(Fixing, new FixBugNode(IterationsArtifact), TemplateRetryPolicies.Agent, nameof(IBugFixer)).Then(Testing);
        template.Step(Testing, new RunTestsNode(Fixing, IterationsArtifact, options.MaxFixIterations, nameof(BugFixOptions.MaxFixIterations)),
                TemplateRetryPolicies.Local, nameof(ITestRunner))
            .On(TestsFailedOutcome, Fixing)
            .Then(CreatingPR);
        IssueFlows.AddCreatePullRequest(template, Fixing, Testing);
        return template.Build();
    }
}

/// <summary>Settings of <see cref="BugFixTemplate"/>.</summary>
public sealed class BugFixOptions : WorkflowTemplateOptions
{
    /// <summary>
    /// How many times <c>Fixing</c> may run in the fix–test loop; when the tests fail after the last one, the workflow
    /// fails. 1 to 100; default 3.
    /// </summary>
    public int MaxFixIterations { get; set; } = 3;

    private protected override string DefaultName => BugFixTemplate.DefaultName;

    private protected override IReadOnlyList<string> ConfigurableSteps => BugFixTemplate.Steps;

    private protected override void AddProblems(List<string> problems) =>
        IssueFlows.CheckIterations(problems, nameof(MaxFixIterations), MaxFixIterations);
}
