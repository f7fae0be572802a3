using Ratchet.Engine;
using Ratchet.Templates.Issues;
using Ratchet.Templates.Reviews;

namespace Ratchet.Templates;

/// <summary>
/// Registers the templates' definitions with an engine, in a host (<c>services.AddRatchet(…).UseSqlite(…).AddIssueImplementation()</c>)
/// or with the plain <see cref="RatchetBuilder"/> (each method is written once, for any <see cref="IRatchetBuilder"/>).
/// The steps' implementations are yours to register in the engine's services (for example
/// <c>services.AddSingleton&lt;IIssueAnalyzer, MyAnalyzer&gt;()</c>); the templates' nodes resolve them there for every
/// step run, in a scope of their own, so they may be singletons, scoped or transient.
/// </summary>
public static class TemplatesRatchetBuilderExtensions
{
    /// <summary>Registers <see cref="IssueImplementationTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static TBuilder AddIssueImplementation<TBuilder>(this TBuilder builder, Action<IssueImplementationOptions>? configure = null) where TBuilder : class, IRatchetBuilder =>
        builder.AddWorkflow(IssueImplementationTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="FeatureImplementationTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static TBuilder AddFeatureImplementation<TBuilder>(this TBuilder builder, Action<FeatureImplementationOptions>? configure = null) where TBuilder : class, IRatchetBuilder =>
        builder.AddWorkflow(FeatureImplementationTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="BugFixTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static TBuilder AddBugFix<TBuilder>(this TBuilder builder, Action<BugFixOptions>? configure = null) where TBuilder : class, IRatchetBuilder =>
        builder.AddWorkflow(BugFixTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="DocumentationUpdateTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static TBuilder AddDocumentationUpdate<TBuilder>(this TBuilder builder, Action<DocumentationUpdateOptions>? configure = null) where TBuilder : class, IRatchetBuilder =>
        builder.AddWorkflow(DocumentationUpdateTemplate.Build(Configure(configure)));

    /// <summary>Registers <see cref="PullRequestReviewTemplate"/>, configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static TBuilder AddPullRequestReview<TBuilder>(this TBuilder builder, Action<PullRequestReviewOptions>? configure = null) where TBuilder : class, IRatchetBuilder =>
        builder.AddWorkflow(PullRequestReviewTemplate.Build(Configure(configure)));

    private static TOptions Configure<TOptions>(Action<TOptions>? configure) where TOptions : WorkflowTemplateOptions, new()
    {
        var options = new TOptions();
        configure?.Invoke(options);
        return options;
    }
}
