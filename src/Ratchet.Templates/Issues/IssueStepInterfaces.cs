namespace Ratchet.Templates.Issues;

/// <summary>
/// The <c>Analyzing</c> step of the issue, feature and documentation templates: read the issue and work out what it
/// asks for. Typically an agent CLI given the issue's text (<c>gh issue view</c>). Not retried by default.
/// </summary>
public interface IIssueAnalyzer
{
    /// <summary>Analyses <paramref name="issue"/>.</summary>
    Task<IssueAnalysis> AnalyzeAsync(IssueInput issue, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>
/// The <c>Planning</c> step of the issue and feature templates: turn the analysis into a plan. In the feature template
/// it runs again when a reviewer rejects the plan, with the rejected plan and the reviewer's comment in the request.
/// Not retried by default.
/// </summary>
public interface IImplementationPlanner
{
    /// <summary>Plans the implementation the request describes.</summary>
    Task<ImplementationPlan> PlanAsync(PlanningRequest request, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>
/// The <c>Implementing</c> step of the issue and feature templates: change the working copy as the plan says. Runs
/// again, with the failed test run, when the tests fail (up to the template's iteration limit). Retried once after
/// 30 s by default.
/// </summary>
public interface IImplementer
{
    /// <summary>Implements the plan, or fixes the implementation the previous test run found wanting.</summary>
    Task<ImplementationResult> ImplementAsync(ImplementationRequest request, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>
/// The <c>Testing</c> step of the issue, feature and bug fix templates: build and test the changes (for example
/// <c>dotnet test</c>). Report failing tests as <see cref="TestOutcome.Failed"/>; throw only when the tests could not
/// be run. Retried once after 5 s by default.
/// </summary>
public interface ITestRunner
{
    /// <summary>Tests the changes.</summary>
    Task<TestRunResult> RunTestsAsync(TestRequest request, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>
/// The <c>CreatingPR</c> step of the issue templates: push the changes and open a pull request (for example
/// <c>gh pr create</c>). Retried with back-off (5 attempts) by default; make it idempotent, since an attempt can fail
/// after the pull request was opened: look for the branch's open pull request first.
/// </summary>
public interface IPullRequestCreator
{
    /// <summary>Opens the pull request.</summary>
    Task<PullRequestResult> CreatePullRequestAsync(PullRequestRequest request, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>The <c>Reproducing</c> step of the bug fix template: reproduce the bug, ideally as a failing test. Not retried by default.</summary>
public interface IBugReproducer
{
    /// <summary>Reproduces the bug <paramref name="issue"/> reports.</summary>
    Task<BugReproduction> ReproduceAsync(IssueInput issue, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>
/// The <c>Fixing</c> step of the bug fix template: fix the bug. Runs again, with the failed test run, when the tests
/// fail (up to the template's iteration limit). Retried once after 30 s by default.
/// </summary>
public interface IBugFixer
{
    /// <summary>Fixes the bug, or the fix the previous test run found wanting.</summary>
    Task<ImplementationResult> FixAsync(BugFixRequest request, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>The <c>Writing</c> step of the documentation update template: change the documentation. Retried once after 30 s by default.</summary>
public interface IDocumentationWriter
{
    /// <summary>Writes the documentation change the request asks for.</summary>
    Task<ImplementationResult> WriteAsync(DocumentationRequest request, StepContext context, CancellationToken cancellationToken = default);
}
