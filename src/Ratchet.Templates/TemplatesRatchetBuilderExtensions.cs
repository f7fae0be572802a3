using Ratchet.Engine;
using Ratchet.Templates.Issues;
using Ratchet.Templates.Reviews;

namespace Ratchet.Templates;

/// <summary>
/// Registers the templates' definitions with an engine, in a host (<c>services.AddRatchet(…).UseSqlite(…).AddIssueImplementation()</c>)
/// or with the plain <see cref="RatchetBuilder"/>. The steps' implementations are yours to register in the engine's
/// services (for example <c>services.AddSingleton&lt;IIssueAnalyzer, MyAnalyzer&gt;()</c>); the templates' nodes resolve
/// them there for every step run, in a scope of their own, so they may be singletons, scoped or transient.
/// </summary>
public static class TemplatesRatchetBuilderExtensions
{
    /// <summary>Registers <see cref="IssueImplementationTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetServiceBuilder AddIssueImplementation(this RatchetServiceBuilder builder, Action<IssueImplementationOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(IssueImplementationTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="FeatureImplementationTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetServiceBuilder AddFeatureImplementation(this RatchetServiceBuilder builder, Action<FeatureImplementationOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(FeatureImplementationTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="BugFixTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetServiceBuilder AddBugFix(this RatchetServiceBuilder builder, Action<BugFixOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(BugFixTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="DocumentationUpdateTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetServiceBuilder AddDocumentationUpdate(this RatchetServiceBuilder builder, Action<DocumentationUpdateOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(DocumentationUpdateTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="PullRequestReviewTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetServiceBuilder AddPullRequestReview(this RatchetServiceBuilder builder, Action<PullRequestReviewOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(PullRequestReviewTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="IssueImplementationTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetBuilder AddIssueImplementation(this RatchetBuilder builder, Action<IssueImplementationOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(IssueImplementationTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="FeatureImplementationTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetBuilder AddFeatureImplementation(this RatchetBuilder builder, Action<FeatureImplementationOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(FeatureImplementationTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="BugFixTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetBuilder AddBugFix(this RatchetBuilder builder, Action<BugFixOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(BugFixTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="DocumentationUpdateTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetBuilder AddDocumentationUpdate(this RatchetBuilder builder, Action<DocumentationUpdateOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(DocumentationUpdateTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="PullRequestReviewTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static RatchetBuilder AddPullRequestReview(this RatchetBuilder builder, Action<PullRequestReviewOptions>? configure = null) =>
        NotNull(builder).AddWorkflow(PullRequestReviewTemplate.Build(Configure(configure)));

    private static T NotNull<T>(T builder) where T : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }

    private static TOptions Configure<TOptions>(Action<TOptions>? configure) where TOptions : WorkflowTemplateOptions, new()
    {
        var options = new TOptions();
        configure?.Invoke(options);
        return options;
    }
}
