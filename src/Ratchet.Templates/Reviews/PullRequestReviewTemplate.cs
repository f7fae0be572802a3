using Ratchet.Engine;

namespace Ratchet.Templates.Reviews;

/// <summary>
/// Answers a pull request review comment with a change:
/// <c>ParsingComment → LocatingCode → GeneratingFix → ApplyingChanges → Responding → completed</c>; every step's
/// failure (after its retries) leads to <c>Failed</c>, which records a <see cref="FailureReport"/> and ends the workflow
/// as Failed.
/// </summary>
/// <remarks>
/// Input: a <see cref="ReviewCommentInput"/>. Steps call <see cref="IReviewCommentParser"/>, <see cref="ICodeLocator"/>,
/// <see cref="IFixGenerator"/>, <see cref="IChangeApplier"/>, <see cref="IReviewResponder"/>; optionally
/// <see cref="IFailureReporter"/>s. Each step's artifact is what it returned; the workflow's output is the
/// <see cref="ReviewResponse"/>. Default retries: ParsingComment, ApplyingChanges, Responding and Failed
/// <see cref="TemplateRetryPolicies.Network"/>; LocatingCode and GeneratingFix none.
/// </remarks>
public static class PullRequestReviewTemplate
{
    /// <summary>The workflow type, unless the options name another.</summary>
    public const string DefaultName = "pr-review";

    /// <summary>The first step: <see cref="IReviewCommentParser"/>; its artifact is a <see cref="ParsedComment"/>.</summary>
    public const string ParsingComment = "ParsingComment";

    /// <summary>The second step: <see cref="ICodeLocator"/>; its artifact is a <see cref="LocatedCode"/>.</summary>
    public const string LocatingCode = "LocatingCode";

    /// <summary>The third step: <see cref="IFixGenerator"/>; its artifact is a <see cref="GeneratedFix"/>.</summary>
    public const string GeneratingFix = "GeneratingFix";

    /// <summary>The fourth step: <see cref="IChangeApplier"/>; its artifact is an <see cref="AppliedChanges"/>.</summary>
    public const string ApplyingChanges = "ApplyingChanges";

    /// <summary>The last step: <see cref="IReviewResponder"/>; its artifact (the workflow's output) is a <see cref="ReviewResponse"/>.</summary>
    public const string Responding = "Responding";

    /// <summary>The failure step: its artifact is a <see cref="FailureReport"/>.</summary>
    public const string Failed = TemplateBuilder.Failed;

    /// <summary>The template's steps, in order.</summary>
    public static IReadOnlyList<string> Steps { get; } = [ParsingComment, LocatingCode, GeneratingFix, ApplyingChanges, Responding, Failed];

    /// <summary>Builds the definition.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static WorkflowDefinition Build(PullRequestReviewOptions? options = null)
    {
        options ??= new PullRequestReviewOptions();
        var template = new TemplateBuilder(options,
            "Answers a review comment: parse it, locate the code, generate a fix, apply and push it, reply to the comment.");
        template.Step(ParsingComment, new ParseCommentNode(), TemplateRetryPolicies.Network, nameof(IReviewCommentParser)).Then(LocatingCode);
        template.Step(LocatingCode, new LocateCodeNode(), TemplateRetryPolicies.None, nameof(ICodeLocator)).Then(GeneratingFix);
        template.Step(GeneratingFix, new GenerateFixNode(), TemplateRetryPolicies.None, nameof(IFixGenerator)).Then(ApplyingChanges);
        template.Step(ApplyingChanges, new ApplyChangesNode(), TemplateRetryPolicies.Network, nameof(IChangeApplier)).Then(Responding);
        template.Step(Responding, new RespondNode(), TemplateRetryPolicies.Network, nameof(IReviewResponder)).Then(WorkflowDefinition.End);
        return template.Build();
    }
}

/// <summary>Settings of <see cref="PullRequestReviewTemplate"/>.</summary>
public sealed class PullRequestReviewOptions : WorkflowTemplateOptions
{
    private protected override string DefaultName => PullRequestReviewTemplate.DefaultName;

    private protected override IReadOnlyList<string> ConfigurableSteps => PullRequestReviewTemplate.Steps;
}
