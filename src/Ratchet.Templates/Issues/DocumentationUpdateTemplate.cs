using Ratchet.Engine;

namespace Ratchet.Templates.Issues;

/// <summary>
/// Updates documentation for an issue: <c>Analyzing → Writing → CreatingPR → completed</c>; every step's failure (after
/// its retries) leads to <c>Failed</c>, which records a <see cref="FailureReport"/> and ends the workflow as Failed.
/// </summary>
/// <remarks>
/// Input: an <see cref="IssueInput"/>. Steps call <see cref="IIssueAnalyzer"/>, <see cref="IDocumentationWriter"/>,
/// <see cref="IPullRequestCreator"/> (with no test run); optionally <see cref="IFailureReporter"/>s. Default retries:
/// Analyzing none, Writing <see cref="TemplateRetryPolicies.Agent"/>, CreatingPR and Failed <see cref="TemplateRetryPolicies.Network"/>.
/// </remarks>
public static class DocumentationUpdateTemplate
{
    /// <summary>The workflow type, unless the options name another.</summary>
    public const string DefaultName = "docs-update";

    /// <summary>The first step: <see cref="IIssueAnalyzer"/>; its artifact is an <see cref="IssueAnalysis"/>.</summary>
    public const string Analyzing = IssueSteps.Analyzing;

    /// <summary>The writing step: <see cref="IDocumentationWriter"/>; its artifact is an <see cref="ImplementationResult"/>.</summary>
    public const string Writing = IssueSteps.Writing;

    /// <summary>The last step: <see cref="IPullRequestCreator"/>; its artifact (the workflow's output) is a <see cref="PullRequestResult"/>.</summary>
    public const string CreatingPR = IssueSteps.CreatingPR;

    /// <summary>The failure step: its artifact is a <see cref="FailureReport"/>.</summary>
    public const string Failed = TemplateBuilder.Failed;

    /// <summary>The template's steps, in order.</summary>
    public static IReadOnlyList<string> Steps { get; } = [Analyzing, Writing, CreatingPR, Failed];

    /// <summary>Builds the definition.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static WorkflowDefinition Build(DocumentationUpdateOptions? options = null)
    {
        options ??= new DocumentationUpdateOptions();
        var template = new TemplateBuilder(options, "Updates documentation: analyse the issue, write the change, open a pull request.");
        template.Step(Analyzing, new AnalyzeIssueNode(), TemplateRetryPolicies.None, nameof(IIssueAnalyzer)).Then(Writing);
        template.Step(Writing, new WriteDocumentationNode(), TemplateRetryPolicies.Agent, nameof(IDocumentationWriter)).Then(CreatingPR);
        IssueFlows.AddCreatePullRequest(template, Writing, testingStep: null);
        return template.Build();
    }
}

/// <summary>Settings of <see cref="DocumentationUpdateTemplate"/>.</summary>
public sealed class DocumentationUpdateOptions : WorkflowTemplateOptions
{
    private protected override string DefaultName => DocumentationUpdateTemplate.DefaultName;

    private protected override IReadOnlyList<string> ConfigurableSteps => DocumentationUpdateTemplate.Steps;
}
