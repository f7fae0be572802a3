using Ratchet.Engine;

namespace Ratchet.Templates.Issues;

/// <summary>
/// Implements a larger feature: the issue template with a human approval of the plan.
/// <c>Analyzing → Planning → PlanApproval → Implementing → Testing → CreatingPR → completed</c>; the workflow waits at
/// <c>PlanApproval</c> (<c>Waiting(Approval)</c>) until someone approves (it goes on) or rejects: by default the plan is
/// made again with the reviewer's comment (<see cref="PlanRejectionAction.Replan"/>), or the workflow fails
/// (<see cref="PlanRejectionAction.Fail"/>). Tests loop and failures are handled as in <see cref="IssueImplementationTemplate"/>.
/// </summary>
/// <remarks>
/// Input: an <see cref="IssueInput"/>. Steps call <see cref="IIssueAnalyzer"/>, <see cref="IImplementationPlanner"/>
/// (given the rejected plan and the rejection when planning again), <see cref="IImplementer"/>, <see cref="ITestRunner"/>,
/// <see cref="IPullRequestCreator"/>; optionally <see cref="IFailureReporter"/>s. The approval's artifact is the
/// <see cref="ApprovalDecision"/>. Default retries as in the issue template.
/// </remarks>
public static class FeatureImplementationTemplate
{
    /// <summary>The workflow type, unless the options name another.</summary>
    public const string DefaultName = "feature-implementation";

    /// <summary>The first step: <see cref="IIssueAnalyzer"/>; its artifact is an <see cref="IssueAnalysis"/>.</summary>
    public const string Analyzing = IssueSteps.Analyzing;

    /// <summary>The planning step: <see cref="IImplementationPlanner"/>; its artifact is an <see cref="ImplementationPlan"/>.</summary>
    public const string Planning = IssueSteps.Planning;

    /// <summary>The approval of the plan; its artifact is the <see cref="ApprovalDecision"/>.</summary>
    public const string PlanApproval = IssueSteps.PlanApproval;

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
    public const string IterationsArtifact = IssueImplementationTemplate.IterationsArtifact;

    /// <summary>The template's steps, in order.</summary>
    public static IReadOnlyList<string> Steps { get; } = [Analyzing, Planning, PlanApproval, Implementing, Testing, CreatingPR, Failed];

    /// <summary>Builds the definition.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static WorkflowDefinition Build(FeatureImplementationOptions? options = null)
    {
        options ??= new FeatureImplementationOptions();
        var template = new TemplateBuilder(options,
            "Implements a feature: analyse, plan, wait for the plan's approval, implement, test (back to implementing while the tests fail, up to a limit), open a pull request.");
        template.Step(Analyzing, new AnalyzeIssueNode(), TemplateRetryPolicies.None, nameof(IIssueAnalyzer)).Then(Planning);
        template.Step(Planning, new PlanImplementationNode(PlanApproval), TemplateRetryPolicies.None, nameof(IImplementationPlanner)).Then(PlanApproval);
        var approval = template.Approval(PlanApproval, options.PlanApprovalPrompt).Then(Implementing);
        if (options.PlanRejection == PlanRejectionAction.Replan)
        {
            approval.On(WorkflowDefinition.Rejected, Planning);
        }

        IssueFlows.AddImplementAndTest(template, options.MaxImplementationIterations, nameof(FeatureImplementationOptions.MaxImplementationIterations));
        return template.Build();
    }
}

/// <summary>What a rejected plan leads to.</summary>
public enum PlanRejectionAction
{
    /// <summary>Plan again, with the rejected plan and the reviewer's comment, and ask for approval again.</summary>
    Replan = 0,

    /// <summary>Fail the workflow (through its <c>Failed</c> step, which records the rejection).</summary>
    Fail = 1,
}

/// <summary>Settings of <see cref="FeatureImplementationTemplate"/>.</summary>
public sealed class FeatureImplementationOptions : WorkflowTemplateOptions
{
    /// <summary>
    /// How many times <c>Implementing</c> may run in the implement–test loop; when the tests fail after the last one,
    /// the workflow fails. 1 to 100; default 3.
    /// </summary>
    public int MaxImplementationIterations { get; set; } = 3;

    /// <summary>What the approver is asked. Default "Approve the implementation plan?".</summary>
    public string PlanApprovalPrompt { get; set; } = "Approve the implementation plan?";

    /// <summary>What a rejected plan leads to. Default <see cref="PlanRejectionAction.Replan"/>.</summary>
    public PlanRejectionAction PlanRejection { get; set; } = PlanRejectionAction.Replan;

    private protected override string DefaultName => FeatureImplementationTemplate.DefaultName;

    // The approval has no retries or time limit of its own: it waits for a person.
    private protected override IReadOnlyList<string> ConfigurableSteps { get; } =
        FeatureImplementationTemplate.Steps.Where(s => s != FeatureImplementationTemplate.PlanApproval).ToArray();

    private protected override void AddProblems(List<string> problems)
    {
        IssueFlows.CheckIterations(problems, nameof(MaxImplementationIterations), MaxImplementationIterations);
        if (string.IsNullOrWhiteSpace(PlanApprovalPrompt))
        {
            problems.Add("PlanApprovalPrompt is empty; say what the approver is asked.");
        }

        if (!Enum.IsDefined(PlanRejection))
        {
            problems.Add($"PlanRejection is {(int)PlanRejection}, which is not a PlanRejectionAction; use Replan or Fail.");
        }
    }
}
