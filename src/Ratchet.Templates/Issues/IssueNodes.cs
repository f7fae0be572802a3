using Ratchet.Engine;

namespace Ratchet.Templates.Issues;

/// <summary><c>Analyzing</c>: the issue, through <see cref="IIssueAnalyzer"/>.</summary>
internal sealed class AnalyzeIssueNode() : ServiceStepNode<IIssueAnalyzer, IssueInput, IssueAnalysis>(
    IssueRun.Issue, (analyzer, issue, step, ct) => analyzer.AnalyzeAsync(issue, step, ct), nameof(IIssueAnalyzer.AnalyzeAsync));

/// <summary><c>Planning</c>: a plan from the analysis (again, with the rejected plan and why, after a rejected approval).</summary>
internal sealed class PlanImplementationNode(string? approvalStep) : ServiceStepNode<IImplementationPlanner, PlanningRequest, ImplementationPlan>(
    run =>
    {
        var issue = IssueRun.Issue(run);
        var analysis = IssueRun.Analysis(run);
        var rejection = approvalStep is null ? null : run.Optional<ApprovalDecision>(approvalStep) is { Approved: false } decision ? decision : null;
        var previousPlan = rejection is null ? null : run.Optional<ImplementationPlan>(run.Node.Node);
        return new PlanningRequest(issue, analysis, previousPlan, rejection);
    },
    (planner, request, step, ct) => planner.PlanAsync(request, step, ct), nameof(IImplementationPlanner.PlanAsync));

/// <summary><c>Implementing</c>: the plan, through <see cref="IImplementer"/>; counts its iterations in an artifact.</summary>
internal sealed class ImplementNode(string iterationsArtifact) : LoopStepNode<IImplementer, ImplementationRequest>(
    iterationsArtifact,
    (run, iteration, failedTests) => new ImplementationRequest(
        IssueRun.Issue(run), IssueRun.Analysis(run), run.Artifact<ImplementationPlan>(IssueSteps.Planning), iteration, failedTests),
    (implementer, request, step, ct) => implementer.ImplementAsync(request, step, ct), nameof(IImplementer.ImplementAsync));

/// <summary><c>Reproducing</c>: the bug, through <see cref="IBugReproducer"/>.</summary>
internal sealed class ReproduceBugNode() : ServiceStepNode<IBugReproducer, IssueInput, BugReproduction>(
    IssueRun.Issue, (reproducer, issue, step, ct) => reproducer.ReproduceAsync(issue, step, ct), nameof(IBugReproducer.ReproduceAsync));

/// <summary><c>Fixing</c>: the bug, through <see cref="IBugFixer"/>; counts its iterations in an artifact.</summary>
internal sealed class FixBugNode(string iterationsArtifact) : LoopStepNode<IBugFixer, BugFixRequest>(
    iterationsArtifact,
    (run, iteration, failedTests) => new BugFixRequest(
        IssueRun.Issue(run), run.Artifact<BugReproduction>(IssueSteps.Reproducing), iteration, failedTests),
    (fixer, request, step, ct) => fixer.FixAsync(request, step, ct), nameof(IBugFixer.FixAsync));

/// <summary><c>Writing</c>: the documentation change, through <see cref="IDocumentationWriter"/>.</summary>
internal sealed class WriteDocumentationNode() : ServiceStepNode<IDocumentationWriter, DocumentationRequest, ImplementationResult>(
    run => new DocumentationRequest(IssueRun.Issue(run), IssueRun.Analysis(run)),
    (writer, request, step, ct) => writer.WriteAsync(request, step, ct), nameof(IDocumentationWriter.WriteAsync));

/// <summary>
/// <c>Testing</c>: the changes of <paramref name="changesStep"/>, through <see cref="ITestRunner"/>. Failing tests send
/// the work back (<c>tests-failed</c>) until <paramref name="maxIterations"/> iterations have run; then the step fails.
/// </summary>
internal sealed class RunTestsNode(string changesStep, string iterationsArtifact, int maxIterations, string limitOption) : TemplateNode
{
    protected override async Task<NodeResult> RunAsync(StepRun run, CancellationToken cancellationToken)
    {
        var issue = IssueRun.Issue(run);
        var changes = run.Artifact<ImplementationResult>(changesStep);
        var iteration = run.Node.TryGet<int>(iterationsArtifact, out var done) ? Math.Max(1, done) : 1;
        var result = await run.Service<ITestRunner>().RunTestsAsync(new TestRequest(issue, changes, iteration), run.Step, cancellationToken);
        result = run.Checked(result, $"{nameof(ITestRunner)}.{nameof(ITestRunner.RunTestsAsync)}");
        if (result.Outcome == TestOutcome.Passed)
        {
            return NodeResult.Success(result);
        }

        return iteration < maxIterations
            ? NodeResult.WithOutcome(IssueSteps.TestsFailed, result)
            : throw new TestsStillFailingException(changesStep, iteration, $"{limitOption} = {maxIterations}", result);
    }
}

/// <summary><c>CreatingPR</c>: a pull request for the changes of <paramref name="changesStep"/>, through <see cref="IPullRequestCreator"/>.</summary>
internal sealed class CreatePullRequestNode(string changesStep, string? testingStep) : ServiceStepNode<IPullRequestCreator, PullRequestRequest, PullRequestResult>(
    run => new PullRequestRequest(
        IssueRun.Issue(run), run.Artifact<ImplementationResult>(changesStep), testingStep is null ? null : run.Artifact<TestRunResult>(testingStep)),
    (creator, request, step, ct) => creator.CreatePullRequestAsync(request, step, ct), nameof(IPullRequestCreator.CreatePullRequestAsync));

/// <summary>
/// A step of an implement–test loop (<c>Implementing</c>, <c>Fixing</c>): its request carries the iteration about to run
/// and, from the second on, the test run that sent the work back; the iteration is counted in
/// <paramref name="iterationsArtifact"/> once the implementation returns.
/// </summary>
internal abstract class LoopStepNode<TService, TRequest>(
    string iterationsArtifact,
    Func<StepRun, int, TestRunResult?, TRequest> request,
    Func<TService, TRequest, StepContext, CancellationToken, Task<ImplementationResult>> call,
    string method) : TemplateNode
    where TService : class
{
    protected sealed override async Task<NodeResult> RunAsync(StepRun run, CancellationToken cancellationToken)
    {
        var iteration = Loop.NextIteration(run, iterationsArtifact);
        var built = request(run, iteration, Loop.FailedTestRun(run, iteration));
        var result = await call(run.Service<TService>(), built, run.Step, cancellationToken);
        run.Node.Set(iterationsArtifact, iteration);
        return NodeResult.Success(run.Checked(result, $"{typeof(TService).Name}.{method}"));
    }
}

/// <summary>The issue steps' input and the analysis several of them read.</summary>
internal static class IssueRun
{
    public static IssueInput Issue(StepRun run) => run.Input<IssueInput>(IssueInput.Problem, IssueInput.Example);

    public static IssueAnalysis Analysis(StepRun run) => run.Artifact<IssueAnalysis>(IssueSteps.Analyzing);
}

/// <summary>The implement–test loop's bookkeeping.</summary>
internal static class Loop
{
    /// <summary>The iteration about to run: one more than the artifact's count of finished ones.</summary>
    public static int NextIteration(StepRun run, string iterationsArtifact) =>
        (run.Node.TryGet<int>(iterationsArtifact, out var done) ? Math.Max(0, done) : 0) + 1;

    /// <summary>The test run that sent the work back, from the second iteration on.</summary>
    public static TestRunResult? FailedTestRun(StepRun run, int iteration) =>
        iteration > 1 && run.Optional<TestRunResult>(IssueSteps.Testing) is { Outcome: TestOutcome.Failed } failed ? failed : null;
}

/// <summary>
/// The tests still failed after the last iteration a template allows: the <c>Testing</c> step fails (without retries)
/// and the workflow takes its failure path.
/// </summary>
public sealed class TestsStillFailingException : RatchetException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">The step whose changes were tested, such as <c>Implementing</c>.</param>
    /// <param name="iterations">How many iterations ran.</param>
    /// <param name="limit">The limit and the option that sets it, such as <c>MaxImplementationIterations = 3</c>, for the message.</param>
    /// <param name="lastRun">The last, failed, test run.</param>
    public TestsStillFailingException(string step, int iterations, string limit, TestRunResult lastRun)
        : base($"The tests still fail after {iterations} iteration(s) of '{step}', the template's limit ({limit}): {lastRun?.Summary} " +
               $"Fix the changes by hand and retry the workflow from '{step}', or raise the limit.")
    {
        ArgumentNullException.ThrowIfNull(lastRun);
        Step = step;
        Iterations = iterations;
        LastRun = lastRun;
    }

    /// <summary>The step whose changes were tested.</summary>
    public string Step { get; }

    /// <summary>How many iterations ran.</summary>
    public int Iterations { get; }

    /// <summary>The last, failed, test run.</summary>
    public TestRunResult LastRun { get; }

    /// <inheritdoc />
    public override string ErrorCode => "tests-still-failing";
}
