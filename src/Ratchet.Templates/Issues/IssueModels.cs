namespace Ratchet.Templates.Issues;

/// <summary>The input of the issue templates: which issue of which repository to work on.</summary>
/// <param name="Repository">The repository, as <c>owner/name</c>.</param>
/// <param name="Issue">The issue number.</param>
public sealed record IssueInput(string Repository, int Issue)
{
    internal const string Example = """{"repository":"owner/name","issue":42}""";

    internal static string? Problem(IssueInput input) =>
        string.IsNullOrWhiteSpace(input.Repository) ? "its repository is missing."
        : input.Issue <= 0 ? $"its issue number is {input.Issue}; it must be positive."
        : null;
}

/// <summary>How much work an issue looks like.</summary>
public enum IssueComplexity
{
    /// <summary>A one-line or one-file change.</summary>
    Trivial = 0,

    /// <summary>A small change in a few files.</summary>
    Small = 1,

    /// <summary>A change across several parts of the code.</summary>
    Medium = 2,

    /// <summary>A large change; consider the feature template, with its plan approval.</summary>
    Large = 3,
}

/// <summary>What the analysis of an issue found: the output of the <c>Analyzing</c> step.</summary>
/// <param name="Summary">The issue in a few sentences.</param>
/// <param name="Requirements">What a change must do to resolve it.</param>
/// <param name="AffectedAreas">The parts of the code (projects, folders, files) it touches.</param>
/// <param name="Complexity">How much work it looks like.</param>
public sealed record IssueAnalysis(string Summary, IReadOnlyList<string> Requirements, IReadOnlyList<string> AffectedAreas, IssueComplexity Complexity);

/// <summary>What the planner is asked to plan.</summary>
/// <param name="Issue">The issue.</param>
/// <param name="Analysis">Its analysis.</param>
/// <param name="PreviousPlan">The plan a reviewer rejected, when planning again after a rejection; else null.</param>
/// <param name="Rejection">The reviewer's rejection of <paramref name="PreviousPlan"/> (who, and why), when planning again; else null.</param>
public sealed record PlanningRequest(IssueInput Issue, IssueAnalysis Analysis, ImplementationPlan? PreviousPlan, ApprovalDecision? Rejection);

/// <summary>How the issue will be implemented: the output of the <c>Planning</c> step.</summary>
/// <param name="Summary">The approach in a few sentences.</param>
/// <param name="Steps">The steps of the work, in order.</param>
/// <param name="RelevantFiles">The files the implementer should start from.</param>
/// <param name="PlanPath">Where the full plan was written, if it was written to a file (such as an rmplan file).</param>
public sealed record ImplementationPlan(string Summary, IReadOnlyList<string> Steps, IReadOnlyList<string> RelevantFiles, string? PlanPath = null);

/// <summary>What the implementer is asked to do.</summary>
/// <param name="Issue">The issue.</param>
/// <param name="Analysis">Its analysis.</param>
/// <param name="Plan">The plan to follow.</param>
/// <param name="Iteration">1 for the first implementation, 2 after the tests failed once, and so on.</param>
/// <param name="PreviousTestRun">The failed test run to fix, from the second iteration on; else null.</param>
public sealed record ImplementationRequest(IssueInput Issue, IssueAnalysis Analysis, ImplementationPlan Plan, int Iteration, TestRunResult? PreviousTestRun);

/// <summary>The changes made in the working copy: the output of the implementing, fixing or writing step.</summary>
/// <param name="Summary">What was changed and why, for the pull request's description.</param>
/// <param name="ChangedFiles">The files changed.</param>
/// <param name="Branch">The branch the changes are on, if they were committed to one.</param>
/// <param name="Commit">The commit holding the changes, if they were committed.</param>
public sealed record ImplementationResult(string Summary, IReadOnlyList<string> ChangedFiles, string? Branch = null, string? Commit = null);

/// <summary>Whether the tests passed.</summary>
public enum TestOutcome
{
    /// <summary>Every test passed.</summary>
    Passed = 0,

    /// <summary>At least one test failed (or the build did).</summary>
    Failed = 1,
}

/// <summary>What the test runner is asked to check.</summary>
/// <param name="Issue">The issue.</param>
/// <param name="Changes">The changes to test.</param>
/// <param name="Iteration">Which implementation iteration the changes are (1 for the first).</param>
public sealed record TestRequest(IssueInput Issue, ImplementationResult Changes, int Iteration);

/// <summary>
/// A test run's result: the output of the <c>Testing</c> step. Failing tests are a result, not an exception: the
/// templates send the work back to be fixed, up to their limit of iterations.
/// </summary>
/// <param name="Outcome">Whether the tests passed.</param>
/// <param name="Summary">What ran and what failed, for the implementer and the pull request.</param>
/// <param name="FailingTests">The names of the failing tests, if known.</param>
public sealed record TestRunResult(TestOutcome Outcome, string Summary, IReadOnlyList<string>? FailingTests = null);

/// <summary>What the pull request creator is asked to open.</summary>
/// <param name="Issue">The issue the pull request resolves.</param>
/// <param name="Changes">The changes, with their summary for the description.</param>
/// <param name="Tests">The passing test run, when the template runs tests; else null.</param>
public sealed record PullRequestRequest(IssueInput Issue, ImplementationResult Changes, TestRunResult? Tests);

/// <summary>The pull request opened: the output of the <c>CreatingPR</c> step.</summary>
/// <param name="Number">Its number.</param>
/// <param name="Url">Its address.</param>
public sealed record PullRequestResult(int Number, string Url);

/// <summary>How a bug was reproduced: the output of the bug fix template's <c>Reproducing</c> step.</summary>
/// <param name="Summary">What goes wrong, and how to see it.</param>
/// <param name="FailingTest">A test that fails because of the bug, if one was written or found.</param>
/// <param name="SuspectedFiles">Where the cause probably is.</param>
public sealed record BugReproduction(string Summary, string? FailingTest = null, IReadOnlyList<string>? SuspectedFiles = null);

/// <summary>What the bug fixer is asked to do.</summary>
/// <param name="Issue">The bug's issue.</param>
/// <param name="Reproduction">How the bug was reproduced.</param>
/// <param name="Iteration">1 for the first fix, 2 after the tests failed once, and so on.</param>
/// <param name="PreviousTestRun">The failed test run to fix, from the second iteration on; else null.</param>
public sealed record BugFixRequest(IssueInput Issue, BugReproduction Reproduction, int Iteration, TestRunResult? PreviousTestRun);

/// <summary>What the documentation writer is asked to do.</summary>
/// <param name="Issue">The issue asking for the documentation change.</param>
/// <param name="Analysis">Its analysis.</param>
public sealed record DocumentationRequest(IssueInput Issue, IssueAnalysis Analysis);

/// <summary>The step names and outcomes the issue templates share; each template publishes the ones it has.</summary>
internal static class IssueSteps
{
    public const string Analyzing = "Analyzing";
    public const string Planning = "Planning";
    public const string PlanApproval = "PlanApproval";
    public const string Implementing = "Implementing";
    public const string Testing = "Testing";
    public const string CreatingPR = "CreatingPR";
    public const string Reproducing = "Reproducing";
    public const string Fixing = "Fixing";
    public const string Writing = "Writing";
    public const string TestsFailed = "tests-failed";
}
