using Microsoft.Extensions.DependencyInjection;
using Ratchet.Templates.Issues;
using Ratchet.Templates.Reviews;

namespace Ratchet.Templates.Tests;

/// <summary>
/// Test implementations of every template step: each returns a small result derived from its request, records what it
/// was asked (with its <see cref="StepContext"/>), and throws where a test told it to. Thread-safe.
/// </summary>
internal sealed class FakeSteps :
    IIssueAnalyzer, IImplementationPlanner, IImplementer, ITestRunner, IPullRequestCreator,
    IBugReproducer, IBugFixer, IDocumentationWriter,
    IReviewCommentParser, ICodeLocator, IFixGenerator, IChangeApplier, IReviewResponder,
    IFailureReporter
{
    private readonly Lock _lock = new();
    private readonly List<(StepContext Context, object Request)> _calls = [];
    private readonly Dictionary<string, Queue<Exception>> _failures = new(StringComparer.Ordinal);
    private readonly HashSet<string> _alwaysFail = new(StringComparer.Ordinal);
    private int _testFailuresLeft;
    private int _reporterFailuresLeft;

    /// <summary>How many test runs report failing tests before they pass; <see cref="int.MaxValue"/> for never passing.</summary>
    public int FailingTestRuns
    {
        get => _testFailuresLeft;
        init => _testFailuresLeft = value;
    }

    /// <summary>How many calls of the failure reporter throw before it succeeds.</summary>
    public int FailingReports
    {
        get => _reporterFailuresLeft;
        init => _reporterFailuresLeft = value;
    }

    /// <summary>The next call of <paramref name="step"/> throws <paramref name="exception"/> (queue several for several calls).</summary>
    public FakeSteps FailOnce(string step, Exception exception)
    {
        lock (_lock)
        {
            if (!_failures.TryGetValue(step, out var queue))
            {
                _failures[step] = queue = new Queue<Exception>();
            }

            queue.Enqueue(exception);
        }

        return this;
    }

    /// <summary>Every call of <paramref name="step"/> throws an <see cref="IOException"/>.</summary>
    public FakeSteps AlwaysFail(string step)
    {
        lock (_lock)
        {
            _alwaysFail.Add(step);
        }

        return this;
    }

    /// <summary>Registers this instance as every step interface (the test runner as scoped, to prove steps run in a scope).</summary>
    public void Register(IServiceCollection services, params Type[] except)
    {
        services.AddSingleton(this);
        foreach (var service in GetType().GetInterfaces().Where(i => !except.Contains(i)))
        {
            if (service == typeof(ITestRunner))
            {
                services.AddScoped(service, provider => provider.GetRequiredService<FakeSteps>());
            }
            else
            {
                services.AddSingleton(service, this);
            }
        }
    }

    /// <summary>The steps called, in order.</summary>
    public IReadOnlyList<string> Calls()
    {
        lock (_lock)
        {
            return _calls.Select(c => c.Context.Step).ToArray();
        }
    }

    /// <summary>The contexts and requests of every call of <typeparamref name="T"/>.</summary>
    public IReadOnlyList<(StepContext Context, T Request)> Requests<T>()
    {
        lock (_lock)
        {
            return _calls.Where(c => c.Request is T).Select(c => (c.Context, (T)c.Request)).ToArray();
        }
    }

    public Task<IssueAnalysis> AnalyzeAsync(IssueInput issue, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, issue);
        return Task.FromResult(new IssueAnalysis($"{issue.Repository}#{issue.Issue} asks for a change", ["do the thing"], ["src/Thing"], IssueComplexity.Small));
    }

    public Task<ImplementationPlan> PlanAsync(PlanningRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        var version = request.PreviousPlan is null ? 1 : request.PreviousPlan.Steps.Count + 1;
        return Task.FromResult(new ImplementationPlan($"plan v{version} for {request.Analysis.Summary}",
            Enumerable.Range(1, version).Select(i => $"step {i}").ToArray(), ["src/Thing/Thing.cs"], $"plans/{request.Issue.Issue}.md"));
    }

    public Task<ImplementationResult> ImplementAsync(ImplementationRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        return Task.FromResult(new ImplementationResult($"implemented '{request.Plan.Summary}', iteration {request.Iteration}",
            request.Plan.RelevantFiles, $"issue-{request.Issue.Issue}", $"c{request.Iteration}"));
    }

    public Task<TestRunResult> RunTestsAsync(TestRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        var fail = Interlocked.Decrement(ref _testFailuresLeft) >= 0;
        return Task.FromResult(fail
            ? new TestRunResult(TestOutcome.Failed, $"1 failed after iteration {request.Iteration}", ["ThingTests.Works"])
            : new TestRunResult(TestOutcome.Passed, $"all passed after iteration {request.Iteration}"));
    }

    public Task<PullRequestResult> CreatePullRequestAsync(PullRequestRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        return Task.FromResult(new PullRequestResult(100 + request.Issue.Issue, $"https://github.com/{request.Issue.Repository}/pull/{100 + request.Issue.Issue}"));
    }

    public Task<BugReproduction> ReproduceAsync(IssueInput issue, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, issue);
        return Task.FromResult(new BugReproduction($"bug {issue.Issue} reproduced", "BugTests.Reproduces", ["src/Bug.cs"]));
    }

    public Task<ImplementationResult> FixAsync(BugFixRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        return Task.FromResult(new ImplementationResult($"fixed '{request.Reproduction.Summary}', iteration {request.Iteration}",
            request.Reproduction.SuspectedFiles ?? [], $"fix-{request.Issue.Issue}"));
    }

    public Task<ImplementationResult> WriteAsync(DocumentationRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        return Task.FromResult(new ImplementationResult($"documented '{request.Analysis.Summary}'", ["docs/guide.md"]));
    }

    public Task<ParsedComment> ParseAsync(ReviewCommentInput comment, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, comment);
        return Task.FromResult(new ParsedComment("please rename x", "rename x to count", "src/A.cs", 12));
    }

    public Task<LocatedCode> LocateAsync(LocateCodeRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        return Task.FromResult(new LocatedCode([new CodeLocation(request.Parsed.Path!, request.Parsed.Line!.Value, request.Parsed.Line.Value + 2)]));
    }

    public Task<GeneratedFix> GenerateFixAsync(FixRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        var location = request.Code.Locations[0];
        return Task.FromResult(new GeneratedFix(request.Parsed.Request, $"--- a/{location.Path}\n+++ b/{location.Path}\n"));
    }

    public Task<AppliedChanges> ApplyAsync(ApplyChangesRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        return Task.FromResult(new AppliedChanges("abc123", ["src/A.cs"]));
    }

    public Task<ReviewResponse> RespondAsync(ResponseRequest request, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, request);
        return Task.FromResult(new ReviewResponse(
            $"https://github.com/{request.Comment.Repository}/pull/{request.Comment.PullRequest}#discussion_r{request.Comment.CommentId + 1}"));
    }

    public Task ReportFailureAsync(FailureReport report, StepContext context, CancellationToken cancellationToken = default)
    {
        Record(context, report);
        if (Interlocked.Decrement(ref _reporterFailuresLeft) >= 0)
        {
            throw new HttpRequestException("GitHub answered 502 Bad Gateway");
        }

        return Task.CompletedTask;
    }

    private void Record(StepContext context, object request)
    {
        lock (_lock)
        {
            _calls.Add((context, request));
            if (_alwaysFail.Contains(context.Step))
            {
                throw new IOException($"{context.Step} cannot reach the remote (attempt {context.Attempt})");
            }

            if (_failures.TryGetValue(context.Step, out var queue) && queue.TryDequeue(out var exception))
            {
                throw exception;
            }
        }
    }
}
